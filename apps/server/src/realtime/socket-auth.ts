import type { Principal, TokenService } from '@palimpsest/auth';
import { toErrorBody } from '../api/error.filter.js';
import type { Socket } from 'socket.io';

/** A Socket.IO acknowledgement: `{ok: true}` or the contract's error fields with `ok: false`. */
export type Ack = { ok: true; [key: string]: unknown } | { ok: false; error: string; message: string };

/** The failure ack for any error, with the contract's code and message. */
export function ackError(error: unknown): Ack {
  const { body } = toErrorBody(error);
  return { ok: false, error: body.error, message: body.message };
}

/** Namespace middleware: refuses a handshake without a valid `auth.token` (the client sees connect_error). */
export function socketAuthMiddleware(tokens: TokenService, attach: (socket: Socket, principal: Principal) => void) {
  return (socket: Socket, next: (error?: Error) => void): void => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    tokens
      .verify(typeof token === 'string' ? token : null)
      .then((principal) => {
        attach(socket, principal);
        next();
      })
      .catch((error: unknown) => {
        const failure = new Error(error instanceof Error ? error.message : 'unauthorized') as Error & { data?: unknown };
        failure.data = { error: 'UNAUTHORIZED' };
        next(failure);
      });
  };
}
