/** A user's role in one notebook; each role includes the rights of the ones before it. */
export type NotebookRole = 'viewer' | 'editor' | 'owner';

/** What a role may do in a notebook. */
export type NotebookAction = 'read' | 'edit' | 'execute' | 'manage';

const RANK: Record<NotebookRole, number> = { viewer: 0, editor: 1, owner: 2 };
const NEEDS: Record<NotebookAction, NotebookRole> = { read: 'viewer', edit: 'editor', execute: 'editor', manage: 'owner' };

/** True when `role` may perform `action`. */
export function roleAllows(role: NotebookRole, action: NotebookAction): boolean {
  return RANK[role] >= RANK[NEEDS[action]];
}

/** True for the strings that name a grantable role. */
export function isGrantableRole(value: unknown): value is Exclude<NotebookRole, 'owner'> {
  return value === 'editor' || value === 'viewer';
}
