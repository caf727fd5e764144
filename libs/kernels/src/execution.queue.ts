import type { Execution } from './execution.js';

/**
 * Runs executions one at a time, in the order they were queued: the next request is sent only when
 * the previous one has its reply and its idle status. An error in an execution with stop_on_error
 * aborts the ones queued behind it, as the kernel itself does for requests already sent.
 */
export class ExecutionQueue {
  private readonly waiting: Execution[] = [];
  private running: Execution | null = null;
  private paused = true;
  private afterError = false;
  /** The running execution an interrupt hit, until it completes. */
  private interruptedExecution: Execution | null = null;
  private replyTimer: NodeJS.Timeout | null = null;

  /**
   * @param send sends an execution's request to the kernel.
   * @param barrier builds a silent, empty execution. After an error the kernel aborts every
   *   execute_request that reaches it before its abort window closes (ipykernel's stop_on_error);
   *   barriers are sent until one is not aborted, so the next real execution is not.
   * @param replyGraceMs how long an interrupted execution that went idle may still wait for its reply.
   */
  constructor(
    private readonly send: (execution: Execution) => Promise<void>,
    private readonly barrier: () => Execution,
    private readonly replyGraceMs = 1000,
  ) {}

  /** The execution the kernel is working on, if any (not a barrier). */
  get current(): Execution | null {
    return this.afterError ? null : this.running;
  }

  /** The executions waiting behind the current one. */
  get queued(): readonly Execution[] {
    return this.waiting;
  }

  /**
   * Adds an execution at the end of the queue. Sending waits for a microtask, so that whatever the
   * caller does right after queueing (attributing the request) happens before the request is sent.
   */
  enqueue(execution: Execution): void {
    this.waiting.push(execution);
    queueMicrotask(() => this.pump());
  }

  /**
   * Notes an interrupt of the running execution. ipykernel interrupted between execute_input and the
   * user's code goes idle without sending execute_reply; such an execution is ended (aborted) once
   * it has waited `replyGraceMs` after its idle status, so the queue does not stall behind it.
   */
  interrupted(): void {
    this.interruptedExecution = this.running;
    this.checkInterrupted();
  }

  /** Passes a kernel message to the running execution and moves on when it completes. */
  observe(message: Parameters<Execution['observe']>[0]): void {
    const running = this.running;
    if (!running?.observe(message)) return this.checkInterrupted();
    this.complete(running);
  }

  /** Moves on from a completed running execution: stop_on_error bookkeeping, then the next one. */
  private complete(running: Execution): void {
    this.running = null;
    this.clearInterrupt();
    if (this.afterError) this.afterError = running.status === 'aborted';
    else if (running.status === 'error' && running.stopOnError) {
      this.afterError = true;
      this.abortQueued('a previous execution failed');
    }
    this.pump();
  }

  /** Stops sending (while the kernel starts or restarts). */
  pause(): void {
    this.paused = true;
  }

  /** Starts sending again. */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Aborts the running execution and everything queued (restart, death, shutdown); a new process has no abort window. */
  abortAll(reason: string): void {
    this.running?.abort(reason);
    this.running = null;
    this.clearInterrupt();
    this.afterError = false;
    this.abortQueued(reason);
  }

  /** Forgets the interrupt of the running execution and its reply grace timer. */
  private clearInterrupt(): void {
    this.interruptedExecution = null;
    if (this.replyTimer) clearTimeout(this.replyTimer);
    this.replyTimer = null;
  }

  /** Arms the reply grace timer once the interrupted execution is idle without a reply. */
  private checkInterrupted(): void {
    const execution = this.interruptedExecution;
    if (!execution || execution !== this.running || !execution.idleWithoutReply || this.replyTimer) return;
    this.replyTimer = setTimeout(() => {
      this.replyTimer = null;
      if (this.running !== execution || !execution.idleWithoutReply) return;
      execution.abort('interrupted before the kernel replied');
      this.complete(execution);
    }, this.replyGraceMs);
    this.replyTimer.unref();
  }

  private abortQueued(reason: string): void {
    for (const execution of this.waiting.splice(0)) execution.abort(reason);
  }

  private pump(): void {
    if (this.paused || this.running || this.waiting.length === 0) return;
    const next = this.afterError ? this.barrier() : this.waiting.shift()!;
    this.running = next;
    next.markRunning();
    this.send(next).catch((error: Error) => {
      next.abort(`could not send the request: ${error.message}`);
      if (this.running !== next) return;
      this.running = null;
      this.pump();
    });
  }
}
