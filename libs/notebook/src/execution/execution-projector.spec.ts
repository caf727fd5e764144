import { InMemoryMessageBus } from '@palimpsest/bus';
import type { KernelExecutionProgress } from '@palimpsest/contracts';
import { describe, expect, it, vi } from 'vitest';
import type { NotebookService } from '../service/notebook.service.js';
import { ExecutionProjector } from './execution-projector.js';

/** A write path that records each write and completes it only when told to. */
function recordingNotebooks() {
  const writes: Array<{ notebookId: string; actor: string; status: unknown; finish: () => void }> = [];
  const notebooks = {
    change: (notebookId: string, who: { actor: string; extra?: Record<string, unknown> }) =>
      new Promise<number>((resolve) => writes.push({ notebookId, actor: who.actor, status: who.extra?.execution_status, finish: () => resolve(writes.length) })),
  };
  return { writes, notebooks: notebooks as unknown as NotebookService };
}

const progress = (status: KernelExecutionProgress['status'], cell_id = 'c1'): KernelExecutionProgress => ({
  notebook_id: 'nb',
  cell_id,
  kernel_id: 'k1',
  execution_id: 'e1',
  status,
  execution_count: 1,
  outputs: [],
});

describe(ExecutionProjector.name, () => {
  it('writes as the kernel, coalescing the states of a cell that arrive while a write is in flight to the newest', async () => {
    const bus = new InMemoryMessageBus();
    const { writes, notebooks } = recordingNotebooks();
    const projector = new ExecutionProjector(notebooks, bus);
    bus.publish('kernel.execution', progress('queued'));
    bus.publish('kernel.execution', progress('running'));
    bus.publish('kernel.execution', progress('running', 'c2'));
    bus.publish('kernel.execution', progress('ok'));
    expect(writes.map((w) => w.status)).toEqual(['queued', 'running']);
    writes[0].finish();
    await vi.waitFor(() => expect(writes.map((w) => w.status)).toEqual(['queued', 'running', 'ok']));
    expect(writes.every((w) => w.actor === 'kernel:k1')).toBe(true);
    writes[1].finish();
    writes[2].finish();
    await projector.idle();
    projector.close();
    bus.publish('kernel.execution', progress('ok'));
    expect(writes).toHaveLength(3);
  });
});
