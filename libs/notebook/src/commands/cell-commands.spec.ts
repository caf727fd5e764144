import { DomainError } from '@palimpsest/contracts';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { duplicateCellIds } from '../changes/check-update.js';
import { exportCell, exportNotebook } from '../model/export-notebook.js';
import { cellIds, cellsOf } from '../model/notebook-doc.js';
import { fixtureDocs } from '../testing/fixture-doc.js';
import { deleteCell, insertCell, moveCell, updateCell } from './cell-commands.js';
import type { CommandResult } from './run-command.js';

/** Applies a command's update to the replica and checks both documents export the same notebook. */
function expectReplicated(doc: Y.Doc, replica: Y.Doc, result: CommandResult): void {
  Y.applyUpdate(replica, result.update);
  expect(exportNotebook(replica)).toEqual(exportNotebook(doc));
}

function expectDomainError(run: () => unknown, code: DomainError['code']): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DomainError);
  expect((thrown as DomainError).code).toBe(code);
}

describe(insertCell.name, () => {
  it('inserts a code cell at an index with a new id, empty outputs and a null count', () => {
    const { doc, replica } = fixtureDocs();
    const result = insertCell(doc, { cell_type: 'code', source: 'print(1)\n', index: 1, metadata: { tags: ['a'] } });
    expect(result.cell).toEqual({ id: result.cell.id, cell_type: 'code', metadata: { tags: ['a'] }, source: ['print(1)\n'], execution_count: null, outputs: [] });
    expect(cellIds(doc)[1]).toBe(result.cell.id);
    expect(result.changes).toEqual([{ kind: 'inserted', cell_id: result.cell.id, index: 1 }]);
    expectReplicated(doc, replica, result);
  });

  it('appends at the end when no index is given, with the id asked for', () => {
    const { doc } = fixtureDocs();
    const result = insertCell(doc, { cell_type: 'markdown', source: ['# a\n', 'b'], id: 'my-cell' });
    expect(cellIds(doc).at(-1)).toBe('my-cell');
    expect(result.index).toBe(cellsOf(doc).length - 1);
    expect(exportCell(doc, 'my-cell')).toEqual({ id: 'my-cell', cell_type: 'markdown', metadata: {}, source: ['# a\n', 'b'] });
  });

  it.each([
    ['an unknown cell type', { cell_type: 'heading' }],
    ['an index past the end', { cell_type: 'code', index: 99 }],
    ['a negative index', { cell_type: 'code', index: -1 }],
    ['an id already used', { cell_type: 'code', id: 'dup' }],
    ['an invalid id', { cell_type: 'code', id: 'a b' }],
    ['metadata of the wrong type', { cell_type: 'code', metadata: { collapsed: 'yes' } }],
  ])('refuses %s with UNPROCESSABLE and leaves the doc untouched', (_what, input) => {
    const { doc } = fixtureDocs();
    insertCell(doc, { cell_type: 'raw', id: 'dup' });
    const before = Y.encodeStateVector(doc);
    expectDomainError(() => insertCell(doc, input), 'UNPROCESSABLE');
    expect(Y.encodeStateVector(doc)).toEqual(before);
  });
});

describe(updateCell.name, () => {
  it('edits only the changed span of the source', () => {
    const { doc, replica } = fixtureDocs();
    const { cell } = insertCell(doc, { cell_type: 'code', source: 'x = 1\ny = 2\n' });
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
    const result = updateCell(doc, cell.id as string, { source: 'x = 1\ny = 3\n' });
    expect(result.changes).toEqual([{ kind: 'source_edited', cell_id: cell.id }]);
    expect(result.cell.source).toEqual(['x = 1\n', 'y = 3\n']);
    expect(Y.decodeUpdate(result.update).structs).toHaveLength(1);
    expectReplicated(doc, replica, result);
  });

  it('replaces the metadata', () => {
    const { doc, replica } = fixtureDocs();
    const id = cellIds(doc)[0];
    const result = updateCell(doc, id, { metadata: { tags: ['x'] } });
    expect(result.changes).toEqual([{ kind: 'metadata_changed', cell_id: id }]);
    expect(exportCell(doc, id).metadata).toEqual({ tags: ['x'] });
    expectReplicated(doc, replica, result);
  });

  it('restructures a code cell that becomes markdown: no outputs, no execution_count', () => {
    const { doc, replica } = fixtureDocs();
    const code = exportNotebook(doc).cells.find((c) => c.cell_type === 'code' && (c.outputs as unknown[]).length > 0)!;
    const result = updateCell(doc, code.id as string, { cell_type: 'markdown' });
    expect(result.changes).toEqual([{ kind: 'type_changed', cell_id: code.id, cell_type: 'markdown' }]);
    expect(result.cell).toEqual({ id: code.id, cell_type: 'markdown', metadata: code.metadata, source: code.source });
    expectReplicated(doc, replica, result);
  });

  it('restructures a markdown cell that becomes code: empty outputs, null count, attachments dropped', () => {
    const { doc, replica } = fixtureDocs();
    const { cell } = insertCell(doc, { cell_type: 'markdown', source: 'hi' });
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
    const result = updateCell(doc, cell.id as string, { cell_type: 'code', source: 'print("hi")' });
    expect(result.cell).toEqual({ id: cell.id, cell_type: 'code', metadata: {}, source: ['print("hi")'], execution_count: null, outputs: [] });
    expect(result.changes).toEqual([
      { kind: 'type_changed', cell_id: cell.id, cell_type: 'code' },
      { kind: 'source_edited', cell_id: cell.id },
    ]);
    expectReplicated(doc, replica, result);
  });

  it('refuses an unknown cell id with NOT_FOUND', () => {
    const { doc } = fixtureDocs();
    expectDomainError(() => updateCell(doc, 'nope', { source: 'x' }), 'NOT_FOUND');
  });

  it('gives an empty update and no change when nothing differs', () => {
    const { doc } = fixtureDocs();
    const cell = exportNotebook(doc).cells[0];
    const result = updateCell(doc, cell.id as string, { source: cell.source, metadata: cell.metadata });
    expect(result.changes).toEqual([]);
    expect(Y.decodeUpdate(result.update).structs).toEqual([]);
  });
});

describe(moveCell.name, () => {
  it('moves a cell keeping its id and content, never duplicating an id', () => {
    const { doc, replica } = fixtureDocs();
    const ids = cellIds(doc);
    const moved = exportCell(doc, ids[3]);
    const result = moveCell(doc, ids[3], 0);
    expect(cellIds(doc)).toEqual([ids[3], ...ids.slice(0, 3), ...ids.slice(4)]);
    expect(exportCell(doc, ids[3])).toEqual(moved);
    expect(duplicateCellIds(doc)).toEqual([]);
    expect(result.changes).toEqual([{ kind: 'moved', cell_id: ids[3], index: 0 }]);
    expectReplicated(doc, replica, result);
    expect(duplicateCellIds(replica)).toEqual([]);
  });

  it('moves a cell to the end', () => {
    const { doc } = fixtureDocs();
    const ids = cellIds(doc);
    moveCell(doc, ids[0], ids.length - 1);
    expect(cellIds(doc)).toEqual([...ids.slice(1), ids[0]]);
  });

  it('keeps the edits of the moved cell made concurrently on the old copy out of duplicates', () => {
    const { doc, replica } = fixtureDocs();
    const id = cellIds(doc)[1];
    moveCell(doc, id, 4);
    updateCell(replica, id, { source: 'concurrent' });
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(replica));
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
    expect(duplicateCellIds(doc)).toEqual([]);
    expect(exportNotebook(doc)).toEqual(exportNotebook(replica));
  });

  it('refuses an index outside the notebook with UNPROCESSABLE', () => {
    const { doc } = fixtureDocs();
    expectDomainError(() => moveCell(doc, cellIds(doc)[0], cellIds(doc).length), 'UNPROCESSABLE');
  });
});

describe(deleteCell.name, () => {
  it('deletes a cell', () => {
    const { doc, replica } = fixtureDocs();
    const ids = cellIds(doc);
    const result = deleteCell(doc, ids[2]);
    expect(cellIds(doc)).toEqual([...ids.slice(0, 2), ...ids.slice(3)]);
    expect(result.changes).toEqual([{ kind: 'deleted', cell_id: ids[2] }]);
    expectReplicated(doc, replica, result);
  });

  it('refuses an unknown cell id with NOT_FOUND', () => {
    expectDomainError(() => deleteCell(fixtureDocs().doc, 'nope'), 'NOT_FOUND');
  });
});
