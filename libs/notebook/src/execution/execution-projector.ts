import type { IOutput } from '@jupyterlab/nbformat';
import type { MessageBus } from '@palimpsest/bus';
import { DomainError, type KernelExecutionProgress } from '@palimpsest/contracts';
import { syncExecution } from '../commands/sync-outputs.js';
import type { NotebookService } from '../service/notebook.service.js';

/** One cell's writes: whether one is in flight, and the newest state waiting behind it. */
interface CellSlot {
  pending: KernelExecutionProgress | null;
  writing: Promise<void> | null;
}

/**
 * Projects `kernel.execution` progress into the notebook: the cell's outputs, execution_count and
 * execution_state, written through the notebook's write path as `kernel:<id>`. Coalesced per cell:
 * while a write is in flight, newer states replace the pending one, and only the newest is written next.
 */
export class ExecutionProjector {
  private readonly slots = new Map<string, CellSlot>();
  private readonly off: () => void;

  constructor(
    private readonly notebooks: NotebookService,
    bus: MessageBus,
    private readonly onError: (error: unknown, progress: KernelExecutionProgress) => void = () => undefined,
  ) {
    this.off = bus.subscribe('kernel.execution', (progress) => this.accept(progress));
  }

  /**
   * Queues a state for its cell; it supersedes any state of that cell not written yet. A conditional state
   * (`replaces`) takes over the condition of the state it supersedes, which was to be written first.
   */
  accept(progress: KernelExecutionProgress): void {
    const key = `${progress.notebook_id}/${progress.cell_id}`;
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { pending: null, writing: null }));
    slot.pending = progress.replaces && slot.pending ? { ...progress, replaces: slot.pending.replaces } : progress;
    slot.writing ??= this.drain(key, slot);
  }

  /** Resolves once every accepted state is written (or failed). */
  async idle(): Promise<void> {
    while (this.slots.size > 0) await Promise.all([...this.slots.values()].flatMap((slot) => (slot.writing ? [slot.writing] : [])));
  }

  /** Stops listening; writes in flight finish. */
  close(): void {
    this.off();
  }

  private async drain(key: string, slot: CellSlot): Promise<void> {
    for (let next = slot.pending; next; next = slot.pending) {
      slot.pending = null;
      await this.write(next).catch((error: unknown) => this.failed(error, next));
    }
    this.slots.delete(key);
  }

  private write(progress: KernelExecutionProgress): Promise<number> {
    const who = {
      actor: `kernel:${progress.kernel_id}`,
      extra: { kernel_id: progress.kernel_id, execution_id: progress.execution_id, execution_status: progress.status },
    };
    const target = {
      outputs: progress.outputs as unknown as IOutput[],
      executionCount: progress.execution_count,
      running: progress.status === 'queued' || progress.status === 'running',
      replaces: progress.replaces as unknown as IOutput[] | undefined,
    };
    return this.notebooks.change(progress.notebook_id, who, undefined, (doc) => ({
      ...syncExecution(doc, progress.cell_id, target, who.actor),
      reply: (version: number) => version,
    }));
  }

  // A cell deleted (or turned into markdown) while it ran, or a deleted notebook, simply gets no outputs.
  private failed(error: unknown, progress: KernelExecutionProgress): void {
    if (error instanceof DomainError && (error.code === 'NOT_FOUND' || error.code === 'UNPROCESSABLE')) return;
    this.onError(error, progress);
  }
}
