import type { MessageBus } from '@palimpsest/bus';
import { DomainError, type EveryNodeRequest, type KernelCall, type KernelCallReply, type KernelCallTarget } from '@palimpsest/contracts';
import { randomUUID } from 'node:crypto';

/** Runs a call on the kernel it names when this node runs it, or answers null when it does not. */
export type KernelCallServer = (call: KernelCall) => Promise<unknown> | null;

/** Which kernel a call is for: a notebook's, or one named by its id. */
export type KernelTarget = { notebook_id: string } | { kernel_id: string };

/** A kernel as messages name it: "the kernel of notebook <id>" or "kernel <id>". */
export function describeKernel(target: KernelTarget): string {
  return 'notebook_id' in target ? `the kernel of notebook ${target.notebook_id}` : `kernel ${target.kernel_id}`;
}

/** How long a call waits for the node that runs the kernel: long enough for that node's own limits. */
export interface KernelCallTimeouts {
  /** Restart and shutdown (a kernel's startup and shutdown grace); 75 s by default. */
  lifecycleMs?: number;
  /** Everything else; 15 s by default. */
  otherMs?: number;
}

/**
 * Requests for a kernel across nodes, over the bus: `call` publishes a `kernel.call` to every node and
 * resolves with the reply of the node that runs the kernel (a notebook's, or one named by its id); every
 * node answers the calls for the kernels it runs. Needs a bus that spans nodes; on one node there is nobody else to ask.
 */
export class KernelCallRelay {
  private readonly waiting = new Map<string, (reply: KernelCallReply) => void>();
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly bus: MessageBus,
    private readonly serve: KernelCallServer,
    private readonly timeouts: KernelCallTimeouts = {},
  ) {
    this.unsubscribe = [
      bus.subscribe('kernel.call', (call) => this.answer(call)),
      bus.subscribe('kernel.call.reply', (reply) => this.waiting.get(reply.call_id)?.(reply)),
    ];
  }

  /** Whether calls can reach other nodes at all. */
  get reachesOtherNodes(): boolean {
    return this.bus.spansNodes;
  }

  /** Asks the node that runs the kernel; rejects with its error, or UNAVAILABLE when no node answers in time. */
  call(actor: string, target: KernelCallTarget): Promise<unknown> {
    const callId = randomUUID();
    const { op } = target.request;
    const timeoutMs = op === 'restart' || op === 'shutdown' ? (this.timeouts.lifecycleMs ?? 75_000) : (this.timeouts.otherMs ?? 15_000);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(callId);
        reject(new DomainError('UNAVAILABLE', `the node that runs ${describeKernel(target)} did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiting.set(callId, (reply) => {
        clearTimeout(timer);
        this.waiting.delete(callId);
        if (reply.ok) resolve(reply.result);
        else reject(new DomainError(reply.error.code, reply.error.message));
      });
      this.bus.publish('kernel.call', { call_id: callId, actor, ...target });
    });
  }

  /** Asks every other node; resolves with their results, one per node that got the call, or rejects with the first error or UNAVAILABLE. */
  async callEveryNode(actor: string, call: EveryNodeRequest): Promise<unknown[]> {
    const callId = randomUUID();
    const timeoutMs = this.timeouts.otherMs ?? 15_000;
    const results: unknown[] = [];
    let expected = Infinity;
    let settle: (error?: Error) => void = () => undefined;
    const settled = new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = expected === Infinity ? 'the other nodes' : `${expected - results.length} of ${expected} other nodes`;
        settle(new DomainError('UNAVAILABLE', `${missing} did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      settle = (error) => {
        clearTimeout(timer);
        this.waiting.delete(callId);
        if (error) reject(error);
        else resolve(results);
      };
    });
    // Replies may come before the bus has counted who got the call.
    this.waiting.set(callId, (reply) => {
      if (!reply.ok) return settle(new DomainError(reply.error.code, reply.error.message));
      results.push(reply.result);
      if (results.length >= expected) settle();
    });
    try {
      expected = await this.bus.broadcast('kernel.call', { call_id: callId, actor, ...call });
    } catch (error) {
      settle(error instanceof Error ? error : new Error(String(error)));
    }
    if (results.length >= expected) settle();
    return settled;
  }

  /** Stops answering and waiting. */
  close(): void {
    for (const off of this.unsubscribe) off();
    this.waiting.clear();
  }

  private answer(call: KernelCall): void {
    // The bus also hands a node its own calls: the caller serves itself.
    if (this.waiting.has(call.call_id)) return;
    const running = this.serve(call);
    if (!running) return;
    running.then(
      (result) => this.bus.publish('kernel.call.reply', { call_id: call.call_id, ok: true, result: result ?? null }),
      (error: unknown) => {
        const failure = error instanceof DomainError ? { code: error.code, message: error.message } : { code: 'INTERNAL' as const, message: error instanceof Error ? error.message : String(error) };
        this.bus.publish('kernel.call.reply', { call_id: call.call_id, ok: false, error: failure });
      },
    );
  }
}
