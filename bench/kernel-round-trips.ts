/** What the kernel benchmarks share: timing round trips of executions through a server, and its statistics. */
import type { RawKernelMessage } from '@palimpsest/kernels';
import { once } from 'node:events';
import type { Socket } from 'socket.io-client';
import type { ChildServer } from '../test/support/child-server.js';

/** Round trips run before a target's timed ones. */
export const WARM_UP = 20;

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
/** The median of samples. */
export const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)];
/** The 95th percentile of samples. */
export const p95 = (values: number[]) => sorted(values)[Math.floor(values.length * 0.95)];
/** Milliseconds as printed in the tables. */
export const ms = (value: number) => value.toFixed(2);

/** A JSON request to the server with the benchmark's bearer token; answers the response body. */
export type Rest = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

/** REST helper over fetch with a bearer token. */
export function restClient(url: string, token: string): Rest {
  return async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
  };
}

/** Waits, per execution id, for both its execute_reply and its idle status on a `/kernels` socket (messages may beat the request's answer). */
export function completions(socket: Socket): (executionId: string) => Promise<void> {
  const seen = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  socket.on('status', (status: { execution_state: string }) => {
    if (status.execution_state === 'dead') throw new Error('the kernel died during the benchmark');
  });
  socket.on('message', (message: RawKernelMessage) => {
    const parent = message.parent_header.msg_id as string | undefined;
    const done = message.msg_type === 'execute_reply' || (message.msg_type === 'status' && message.content.execution_state === 'idle');
    if (!parent || !done) return;
    const count = (seen.get(parent) ?? 0) + 1;
    seen.set(parent, count);
    if (count === 2) waiters.get(parent)?.();
  });
  return (executionId) => (seen.get(executionId) === 2 ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(executionId, resolve)));
}

/** One way of running `1+1`: resolves when reply and idle are in; `accepted` (server targets) is the time to the request's answer. */
export type RoundTrip = () => Promise<{ accepted?: number }>;

/** Times `count` round trips of a target after its warm-up. */
export async function timeRoundTrips(run: RoundTrip, count: number, samples: { total: number[]; accepted: number[] }): Promise<void> {
  for (let i = 0; i < WARM_UP + count; i++) {
    const start = performance.now();
    const { accepted } = await run();
    if (i < WARM_UP) continue;
    samples.total.push(performance.now() - start);
    if (accepted !== undefined) samples.accepted.push(accepted);
  }
}

/** A server target: `submit` queues `1+1` and answers its execution id; the subscriber sees it complete. */
export function serverRoundTrip(submit: () => Promise<string>, completed: (executionId: string) => Promise<void>): RoundTrip {
  return async () => {
    const start = performance.now();
    const executionId = await submit();
    const accepted = performance.now() - start;
    await completed(executionId);
    return { accepted };
  };
}

/** A `/kernels` `execute` of scratch code in a notebook's kernel, over a socket; answers the execution id. */
export async function executeOver(socket: Socket, notebookId: string, body: Record<string, unknown>): Promise<string> {
  const ack = (await socket.emitWithAck('execute', { notebook_id: notebookId, ...body })) as { ok: boolean; execution_id?: string; message?: string };
  if (!ack.ok || !ack.execution_id) throw new Error(`execute refused: ${ack.message}`);
  return ack.execution_id;
}

/** SIGTERM (the server shuts its kernels down), then SIGKILL if it has not exited within 15 s. */
export async function stopGracefully(server: ChildServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => void server.kill(), 15_000);
  await exited;
  clearTimeout(timer);
}
