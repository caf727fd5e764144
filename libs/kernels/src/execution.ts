import { parentMsgId } from './message.factory.js';
import type { JupyterMessage } from './message.types.js';
import { foldOutput, initialOutputState, isDisplayUpdate, type OutputFoldState } from './output.folding.js';
import type { NotebookOutput } from './output.types.js';

/** Where an execution is: waiting in the queue, sent to the kernel, or finished. */
export type ExecutionStatus = 'queued' | 'running' | 'ok' | 'error' | 'aborted';

/** How an execution ended: the reply status (or `aborted` without one), its count, reply content and folded outputs. */
export interface ExecutionResult {
  status: 'ok' | 'error' | 'aborted';
  executionCount: number | null;
  /** The execute_reply content; null when the execution was aborted before a reply came. */
  reply: Record<string, unknown> | null;
  outputs: readonly NotebookOutput[];
  /** Why an execution was aborted without a reply (restart, death, shutdown, an earlier error). */
  reason?: string;
}

/** One execute_request and what came back for it; `done` settles once both the reply and the idle status arrived. */
export class Execution {
  /** Resolves with the result; it never rejects (a dead kernel gives status `aborted`). */
  readonly done: Promise<ExecutionResult>;
  private current: ExecutionStatus = 'queued';
  private fold: OutputFoldState = initialOutputState();
  private count: number | null = null;
  private reply: Record<string, unknown> | null = null;
  private idle = false;
  private settle!: (result: ExecutionResult) => void;

  constructor(
    /** The execute_request, built when the execution is queued so that its msg_id is known at once. */
    readonly request: JupyterMessage,
    /** Whether an error aborts the executions queued after this one (Jupyter's stop_on_error). */
    readonly stopOnError: boolean,
  ) {
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  /** The execute_request's msg_id: the execution id. */
  get msgId(): string {
    return this.request.header.msg_id;
  }

  /** The current status. */
  get status(): ExecutionStatus {
    return this.current;
  }

  /** The outputs folded so far. */
  get outputs(): readonly NotebookOutput[] {
    return this.fold.outputs;
  }

  /** The execution count from execute_input or the reply, once known. */
  get executionCount(): number | null {
    return this.count;
  }

  /** True once the kernel went idle for this request while its reply has not come (yet). */
  get idleWithoutReply(): boolean {
    return this.current === 'running' && this.idle && this.reply === null;
  }

  /** Marks the request as sent. */
  markRunning(): void {
    this.current = 'running';
  }

  /**
   * Applies a message from the kernel if it answers this request, or if it updates a display this execution
   * shows (a display handle can be updated from any request); true once the execution is complete.
   */
  observe(message: JupyterMessage): boolean {
    if (this.current !== 'running') return false;
    if (parentMsgId(message) !== this.msgId) {
      if (isDisplayUpdate(message)) this.fold = foldOutput(this.fold, message);
      return false;
    }
    const type = message.header.msg_type;
    if (message.channel === 'shell' && type === 'execute_reply') {
      this.reply = message.content;
      this.count = typeof message.content.execution_count === 'number' ? message.content.execution_count : this.count;
    } else if (message.channel === 'iopub' && type === 'execute_input') {
      this.count = typeof message.content.execution_count === 'number' ? message.content.execution_count : this.count;
    } else if (message.channel === 'iopub' && type === 'status') {
      this.idle ||= message.content.execution_state === 'idle';
    } else if (message.channel === 'iopub') {
      this.fold = foldOutput(this.fold, message);
    }
    if (!this.reply || !this.idle) return false;
    const status = this.reply.status === 'ok' ? 'ok' : this.reply.status === 'aborted' ? 'aborted' : 'error';
    this.finish({ status, executionCount: this.count, reply: this.reply, outputs: this.outputs });
    return true;
  }

  /** Ends the execution without a reply. */
  abort(reason: string): void {
    if (this.current === 'queued' || this.current === 'running') {
      this.finish({ status: 'aborted', executionCount: this.count, reply: null, outputs: this.outputs, reason });
    }
  }

  private finish(result: ExecutionResult): void {
    this.current = result.status;
    this.settle(result);
  }
}
