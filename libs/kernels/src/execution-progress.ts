import type { KernelExecutionProgress } from '@palimpsest/contracts';
import type { MessageBus } from '@palimpsest/bus';
import type { Execution } from './execution.js';
import { parentMsgId } from './message.factory.js';
import type { JupyterMessage } from './message.types.js';
import { toNbformatOutputs } from './output.folding.js';
import type { ZmqKernel } from './zmq.kernel.js';

/** The iopub messages after which a cell's outputs or count may have changed. */
const PROGRESS_TYPES = new Set(['execute_input', 'stream', 'display_data', 'update_display_data', 'clear_output', 'execute_result', 'error']);

interface TrackedExecution {
  execution: Execution;
  notebookId: string;
  cellId: string;
  scheduled: boolean;
}

/**
 * Publishes `kernel.execution` for the cell executions of one kernel: when queued, when sent, after
 * every output-affecting iopub message and when finished. The notebook projects these into the cell.
 */
export class ExecutionProgress {
  private readonly tracked = new Map<string, TrackedExecution>();
  private readonly off: () => void;

  constructor(
    private readonly kernel: ZmqKernel,
    private readonly bus: MessageBus,
  ) {
    this.off = kernel.onMessage((message, direction) => this.observe(message, direction === 'to_kernel'));
  }

  /** Starts reporting an execution of a cell; `finished` runs once it is done and reported. */
  track(execution: Execution, notebookId: string, cellId: string, finished: () => void): void {
    const entry: TrackedExecution = { execution, notebookId, cellId, scheduled: false };
    this.tracked.set(execution.msgId, entry);
    this.publish(entry);
    void execution.done.then(() => {
      this.tracked.delete(execution.msgId);
      this.publish(entry);
      finished();
    });
  }

  /** Stops listening to the kernel. */
  close(): void {
    this.off();
    this.tracked.clear();
  }

  private observe(message: JupyterMessage, outgoing: boolean): void {
    const id = outgoing ? message.header.msg_id : parentMsgId(message);
    const entry = id === null ? undefined : this.tracked.get(id);
    if (!entry || entry.scheduled) return;
    if (!(outgoing || (message.channel === 'iopub' && PROGRESS_TYPES.has(message.header.msg_type)))) return;
    // Listeners run before the kernel folds the message into the execution: read it once that is done.
    entry.scheduled = true;
    queueMicrotask(() => {
      entry.scheduled = false;
      if (this.tracked.has(entry.execution.msgId)) this.publish(entry);
    });
  }

  private publish({ execution, notebookId, cellId }: TrackedExecution): void {
    const progress: KernelExecutionProgress = {
      notebook_id: notebookId,
      cell_id: cellId,
      kernel_id: this.kernel.id,
      execution_id: execution.msgId,
      status: execution.status,
      execution_count: execution.executionCount,
      outputs: toNbformatOutputs(execution.outputs) as unknown as Array<Record<string, unknown>>,
    };
    this.bus.publish('kernel.execution', progress);
  }
}
