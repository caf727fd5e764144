import { readdirSync, readFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';

/** Process ids whose command line mentions `needle` (a server's kernels name connection files under its data dir). */
export function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Resolves with the first payload of `name` on a socket that matches. */
export function nextOn<T>(socket: Socket, name: string, matches: (payload: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const listener = (payload: T) => {
      if (!matches(payload)) return;
      socket.off(name, listener);
      resolve(payload);
    };
    socket.on(name, listener);
  });
}

/** Connects a Socket.IO client to a namespace with a token; resolves once connected, rejects on connect_error. */
export async function connectSocket(url: string, namespace: string, token: string): Promise<Socket> {
  const socket = io(`${url}${namespace}`, { auth: { token }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/**
 * Records every payload of `name` on a socket from now on. The function returned resolves with the
 * first payload after the last one it resolved with that matches, whether it came already or comes later.
 */
export function recordOn<T>(socket: Socket, name: string): (matches?: (payload: T) => boolean) => Promise<T> {
  const seen: T[] = [];
  const waiting = new Set<() => void>();
  let consumed = 0;
  socket.on(name, (payload: T) => {
    seen.push(payload);
    for (const check of [...waiting]) check();
  });
  return (matches = () => true) =>
    new Promise((resolve) => {
      const check = () => {
        const index = seen.findIndex((payload, i) => i >= consumed && matches(payload));
        if (index < 0) return;
        waiting.delete(check);
        consumed = index + 1;
        resolve(seen[index]);
      };
      waiting.add(check);
      check();
    });
}
