import { DomainError } from '@palimpsest/contracts';
import type { AuthenticatedRequest, Principal } from '@palimpsest/auth';

/** A request that passed the AuthGuard. */
export type PrincipalRequest = AuthenticatedRequest;

/** The principal the AuthGuard attached to a request. */
export function principalOf(request: PrincipalRequest): Principal {
  if (!request.principal) throw new DomainError('UNAUTHORIZED', 'a bearer token is required');
  return request.principal;
}
