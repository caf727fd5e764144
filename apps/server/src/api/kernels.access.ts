import { authorize, type NotebookAccess, type Principal } from '@palimpsest/auth';
import { DomainError, type NotebookAction } from '@palimpsest/contracts';

/** Whose a kernel is: the notebook it serves, or (standalone) the user who started it. */
export interface KernelOwnership {
  notebookId: string | null;
  owner: string;
}

/**
 * Checks that a principal may act on a kernel. A notebook's kernel follows the notebook's roles
 * (read to see it, execute to run, interrupt, restart or stop it); a standalone kernel belongs to the
 * user who started it, and only they may see or use it.
 */
export function authorizeKernel(access: NotebookAccess, principal: Principal, kernel: KernelOwnership, action: Extract<NotebookAction, 'read' | 'execute'>): void {
  if (kernel.notebookId !== null) {
    authorize(access, principal, kernel.notebookId, action);
    return;
  }
  if (kernel.owner !== principal.user) throw new DomainError('FORBIDDEN', `this kernel belongs to ${kernel.owner}`);
  if (action !== 'read' && principal.scope === 'read') throw new DomainError('FORBIDDEN', 'this token is read-only');
}

/** True when the principal may see the kernel (for listings, which leave out the others). */
export function maySeeKernel(access: NotebookAccess, principal: Principal, kernel: KernelOwnership): boolean {
  try {
    authorizeKernel(access, principal, kernel, 'read');
    return true;
  } catch {
    return false;
  }
}
