import type { IOutput } from '@jupyterlab/nbformat';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { cellExecutionState } from '../../../../test/support/collab-clients.js';
import { exportCell, exportNotebook } from '../model/export-notebook.js';
import { fixtureDocs, normalizedOutput } from '../testing/fixture-doc.js';
import { insertCell } from './cell-commands.js';
import { settleRunningCells, syncExecution } from './sync-outputs.js';

const stdout = (text: string): IOutput => ({ output_type: 'stream', name: 'stdout', text });
const png = (bytes: number): IOutput => ({ output_type: 'display_data', data: { 'image/png': 'A'.repeat(bytes) }, metadata: {} });

const outputsOf = (doc: Y.Doc, id: string) => (exportCell(doc, id).outputs as IOutput[]).map((o) => normalizedOutput(o as Record<string, unknown>));

function cellDocs() {
  const { doc, replica } = fixtureDocs();
  const id = insertCell(doc, { cell_type: 'code', source: 'print(1)' }).cell.id as string;
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
  return { doc, replica, id };
}

describe(syncExecution.name, () => {
  it('brings outputs, execution_count and execution_state to the target, and a replica follows the updates', () => {
    const { doc, replica, id } = cellDocs();
    const steps: Array<Parameters<typeof syncExecution>[2]> = [
      { outputs: [], executionCount: null, running: true },
      { outputs: [stdout('a\n')], executionCount: 1, running: true },
      { outputs: [stdout('a\nb\n'), png(10)], executionCount: 1, running: true },
      { outputs: [stdout('x\n')], executionCount: 1, running: false },
    ];
    for (const step of steps) Y.applyUpdate(replica, syncExecution(doc, id, step).update);
    expect(outputsOf(doc, id)).toEqual([stdout('x\n')]);
    expect(exportCell(doc, id).execution_count).toBe(1);
    expect(exportNotebook(replica)).toEqual(exportNotebook(doc));
  });

  it('appends only the new text of a growing stream: each update stays the size of what was printed since the last', () => {
    const { doc, id } = cellDocs();
    const image = png(100_000);
    let text = '';
    syncExecution(doc, id, { outputs: [image, stdout(text)], executionCount: 1, running: true });
    const sizes: number[] = [];
    for (let i = 0; i < 50; i++) {
      text += `line ${i}\n`;
      sizes.push(syncExecution(doc, id, { outputs: [image, stdout(text)], executionCount: 1, running: true }).update.byteLength);
    }
    expect(Math.max(...sizes)).toBeLessThan(100);
  });

  it('replaces outputs from the first one that differs, keeping the prefix', () => {
    const { doc, id } = cellDocs();
    syncExecution(doc, id, { outputs: [png(50_000), stdout('progress 1')], executionCount: 1, running: true });
    const update = syncExecution(doc, id, { outputs: [png(50_000), stdout('progress 2')], executionCount: 1, running: true }).update;
    expect(update.byteLength).toBeLessThan(200);
    expect(outputsOf(doc, id)).toEqual([png(50_000), stdout('progress 2')]);
  });

  it('changes nothing when the cell already shows the target', () => {
    const { doc, id } = cellDocs();
    const target = { outputs: [stdout('same')], executionCount: 2, running: false };
    syncExecution(doc, id, target);
    expect(syncExecution(doc, id, target).changes).toEqual([]);
  });

  it('writes a conditional target only while the cell still shows the outputs it replaces', () => {
    const { doc, id } = cellDocs();
    const shown = [stdout('a\nb\n'), png(10)];
    syncExecution(doc, id, { outputs: shown, executionCount: 3, running: false });
    const updated = [stdout('a\nb\n'), png(20)];
    expect(syncExecution(doc, id, { outputs: updated, executionCount: 3, running: false, replaces: shown }).changes).not.toEqual([]);
    expect(outputsOf(doc, id)).toEqual(updated);
    // Outputs changed since (cleared by an editor): the same kind of write now leaves them alone.
    syncExecution(doc, id, { outputs: [], executionCount: 3, running: false });
    const stale = syncExecution(doc, id, { outputs: [png(30)], executionCount: 3, running: false, replaces: updated });
    expect(stale.changes).toEqual([]);
    expect(outputsOf(doc, id)).toEqual([]);
  });

  it('refuses an invalid output with UNPROCESSABLE before changing anything', () => {
    const { doc, id } = cellDocs();
    const bad = { output_type: 'display_data', data: 'not a bundle' } as unknown as IOutput;
    expect(() => syncExecution(doc, id, { outputs: [bad], executionCount: 1, running: true })).toThrow(expect.objectContaining({ code: 'UNPROCESSABLE' }));
    expect(exportCell(doc, id).execution_count).toBeNull();
  });
});

describe(settleRunningCells.name, () => {
  it('marks only the running cells idle, keeps their outputs, and changes nothing when none runs', () => {
    const { doc, replica, id } = cellDocs();
    const idle = insertCell(doc, { cell_type: 'code', source: 'x' }).cell.id as string;
    Y.applyUpdate(replica, syncExecution(doc, id, { outputs: [stdout('partial\n')], executionCount: 3, running: true }).update);
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));

    const settled = settleRunningCells(doc);
    expect(settled.changes).toEqual([{ cell_id: id, kind: 'execution_changed' }]);
    Y.applyUpdate(replica, settled.update);
    expect([cellExecutionState(replica, id), cellExecutionState(replica, idle)]).toEqual(['idle', undefined]);
    expect(outputsOf(replica, id)).toEqual([normalizedOutput(stdout('partial\n') as unknown as Record<string, unknown>)]);
    expect(exportCell(replica, id).execution_count).toBe(3);

    expect(settleRunningCells(doc).changes).toEqual([]);
  });

  it('settles only the given cells when told which', () => {
    const { doc, id } = cellDocs();
    const other = insertCell(doc, { cell_type: 'code', source: 'y' }).cell.id as string;
    for (const cell of [id, other]) syncExecution(doc, cell, { outputs: [], executionCount: null, running: true });
    expect(settleRunningCells(doc, undefined, new Set([other])).changes).toEqual([{ cell_id: other, kind: 'execution_changed' }]);
    expect([cellExecutionState(doc, id), cellExecutionState(doc, other)]).toEqual(['running', 'idle']);
  });
});
