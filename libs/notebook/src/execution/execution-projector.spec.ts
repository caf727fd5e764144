import { InMemoryMessageBus } from '@palimpsest/bus';
import type { KernelExecutionProgress } from '@palimpsest/contracts';
import { describe, expect, it, vi } from 'vitest';
import type * as Y from 'yjs';
import { insertCell } from '../commands/cell-commands.js';
import { syncExecution } from '../commands/sync-outputs.js';
import { exportCell } from '../model/export-notebook.js';
import type { NotebookService } from '../service/notebook.service.js';
import { fixtureDocs } from '../testing/fixture-doc.js';
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

  it('keeps the condition of a superseded display update, so coalesced updates still apply to the outputs shown', async () => {
    const { doc } = fixtureDocs();
    const cellId = insertCell(doc, { cell_type: 'code', source: 'h.update(...)' }).cell.id as string;
    const display = (text: string) => ({ output_type: 'display_data', data: { 'text/plain': text }, metadata: {} });
    syncExecution(doc, cellId, { outputs: [display('0')], executionCount: 1, running: false });
    const finishes: Array<() => void> = [];
    const notebooks = {
      change: (_id: string, _who: unknown, _expected: unknown, command: (d: Y.Doc) => unknown) => {
        command(doc);
        return new Promise<number>((resolve) => finishes.push(() => resolve(finishes.length)));
      },
    } as unknown as NotebookService;
    const bus = new InMemoryMessageBus();
    const projector = new ExecutionProjector(notebooks, bus);
    const update = (from: string, to: string): KernelExecutionProgress => ({ ...progress('ok', cellId), outputs: [display(to)], replaces: [display(from)] });
    bus.publish('kernel.execution', update('0', '1')); // written at once;
    bus.publish('kernel.execution', update('1', '2')); // these two wait behind it and are written as one,
    bus.publish('kernel.execution', update('2', '3')); // from '1' to '3'
    const shown = () => (exportCell(doc, cellId).outputs as Array<{ data: Record<string, unknown> }>).map((o) => o.data['text/plain']);
    expect(shown()).toEqual(['1']);
    finishes[0]();
    await vi.waitFor(() => expect(finishes).toHaveLength(2));
    expect(shown()).toEqual(['3']);
    finishes[1]();
    // Cleared meanwhile by an editor: the next update leaves the cell alone.
    syncExecution(doc, cellId, { outputs: [], executionCount: 1, running: false });
    bus.publish('kernel.execution', update('3', '4'));
    await vi.waitFor(() => expect(finishes).toHaveLength(3));
    finishes[2]();
    await projector.idle();
    expect(shown()).toEqual([]);
    projector.close();
  });
});
