import type { KernelExecutionProgress } from '@palimpsest/contracts';
import type { MessageBus } from '@palimpsest/bus';
import type { Execution } from './execution.js';
import { parentMsgId } from './message.factory.js';
import type { JupyterMessage } from './message.types.js';
import { foldOutput, initialOutputState, isDisplayUpdate, showsDisplays, toNbformatOutputs } from './output.folding.js';
import type { NotebookOutput } from './output.types.js';
import type { ZmqKernel } from './zmq.kernel.js';

/** The iopub messages after which a cell's outputs or count may have changed. */
const PROGRESS_TYPES = new Set(['execute_input', 'stream', 'display_data', 'update_display_data', 'clear_output', 'execute_result', 'error']);

interface TrackedExecution {
  execution: Execution;
  notebookId: string;
  cellId: string;
  scheduled: boolean;
}

/** A cell whose last execution here ended showing displays with ids, which later requests may still update. */
interface ShownDisplays {
  notebookId: string;
  cellId: string;
  executionId: string;
  status: KernelExecutionProgress['status'];
  executionCount: number | null;
  /** The outputs as this kernel last set them, display ids included. */
  outputs: readonly NotebookOutput[];
}

/**
 * Publishes `kernel.execution` for the cell executions of one kernel: when queued, when sent, after
 * every output-affecting iopub message and when finished. The notebook projects these into the cell.
 * An `update_display_data` also reaches displays that finished executions left in other cells, as in
 * JupyterLab (until that cell runs again or the kernel restarts); those writes are conditional on the cell
 * still showing them.
 */
export class ExecutionProgress {
  private readonly tracked = new Map<string, TrackedExecution>();
  /** By `notebookId/cellId`. */
  private readonly shown = new Map<string, ShownDisplays>();
  private readonly off: Array<() => void>;

  constructor(
    private readonly kernel: ZmqKernel,
    private readonly bus: MessageBus,
  ) {
    this.off = [
      kernel.onMessage((message, direction) => this.observe(message, direction === 'to_kernel')),
      // A new process knows nothing of the old one's displays (JupyterLab forgets them at restart too).
      kernel.onLifecycle((event) => event.state === 'restarted' && this.shown.clear()),
    ];
  }

  /** Starts reporting an execution of a cell; `finished` runs once it is done and reported. */
  track(execution: Execution, notebookId: string, cellId: string, finished: () => void): void {
    const entry: TrackedExecution = { execution, notebookId, cellId, scheduled: false };
    this.shown.delete(cellKey(entry));
    this.tracked.set(execution.msgId, entry);
    this.publish(entry);
    void execution.done.then((result) => {
      this.tracked.delete(execution.msgId);
      this.publish(entry);
      if (showsDisplays(result.outputs) && !this.runsAgain(entry)) {
        this.shown.set(cellKey(entry), { notebookId, cellId, executionId: execution.msgId, status: result.status, executionCount: result.executionCount, outputs: result.outputs });
      }
      finished();
    });
  }

  /** Stops listening to the kernel. */
  close(): void {
    for (const off of this.off) off();
    this.tracked.clear();
    this.shown.clear();
  }

  private observe(message: JupyterMessage, outgoing: boolean): void {
    if (!outgoing && isDisplayUpdate(message)) this.updateDisplays(message);
    const id = outgoing ? message.header.msg_id : parentMsgId(message);
    const entry = id === null ? undefined : this.tracked.get(id);
    if (!entry) return;
    if (outgoing || (message.channel === 'iopub' && PROGRESS_TYPES.has(message.header.msg_type))) this.schedule(entry);
  }

  // Listeners run before the kernel folds the message into the execution: read it once that is done.
  private schedule(entry: TrackedExecution): void {
    if (entry.scheduled) return;
    entry.scheduled = true;
    queueMicrotask(() => {
      entry.scheduled = false;
      if (this.tracked.has(entry.execution.msgId)) this.publish(entry);
    });
  }

  // The running execution folds updates of any request itself; finished cells' displays are updated here.
  private updateDisplays(message: JupyterMessage): void {
    for (const entry of this.tracked.values()) if (entry.execution.status === 'running') this.schedule(entry);
    for (const shown of this.shown.values()) {
      const outputs = foldOutput(initialOutputState(shown.outputs), message).outputs;
      if (outputs === shown.outputs) continue;
      this.bus.publish('kernel.execution', {
        notebook_id: shown.notebookId,
        cell_id: shown.cellId,
        kernel_id: this.kernel.id,
        execution_id: shown.executionId,
        status: shown.status,
        execution_count: shown.executionCount,
        outputs: nbformatOutputs(outputs),
        replaces: nbformatOutputs(shown.outputs),
      });
      shown.outputs = outputs;
    }
  }

  // Whether the cell of this execution is queued or running again here.
  private runsAgain({ notebookId, cellId }: TrackedExecution): boolean {
    return [...this.tracked.values()].some((other) => other.notebookId === notebookId && other.cellId === cellId);
  }

  private publish({ execution, notebookId, cellId }: TrackedExecution): void {
    const progress: KernelExecutionProgress = {
      notebook_id: notebookId,
      cell_id: cellId,
      kernel_id: this.kernel.id,
      execution_id: execution.msgId,
      status: execution.status,
      execution_count: execution.executionCount,
      outputs: nbformatOutputs(execution.outputs),
    };
    this.bus.publish('kernel.execution', progress);
  }
}

function cellKey({ notebookId, cellId }: { notebookId: string; cellId: string }): string {
  return `${notebookId}/${cellId}`;
}

function nbformatOutputs(outputs: readonly NotebookOutput[]): KernelExecutionProgress['outputs'] {
  return toNbformatOutputs(outputs) as unknown as KernelExecutionProgress['outputs'];
}
