import { DomainError, roleAllows, type NotebookAction, type NotebookRole } from '@palimpsest/contracts';
import type { Principal } from './token.service.js';

/** Answers which role a user holds in a notebook (null: none), and whether the notebook exists. */
export abstract class NotebookAccess {
  /** The user's role, or null when the user has none; throws NOT_FOUND for an unknown or deleted notebook. */
  abstract roleOf(notebookId: string, user: string): NotebookRole | null;
}

/** Checks that a principal may perform an action on a notebook; returns its role or throws 403/404. */
export function authorize(access: NotebookAccess, principal: Principal, notebookId: string, action: NotebookAction): NotebookRole {
  const role = access.roleOf(notebookId, principal.user);
  if (role === null) throw new DomainError('FORBIDDEN', `${principal.user} has no role in notebook ${notebookId}`);
  if (action !== 'read' && principal.scope === 'read') {
    throw new DomainError('FORBIDDEN', 'this token is read-only');
  }
  if (!roleAllows(role, action)) throw new DomainError('FORBIDDEN', `a ${role} may not ${action} notebook ${notebookId}`);
  return role;
}
