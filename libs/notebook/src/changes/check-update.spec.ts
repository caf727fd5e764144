import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { insertCell, updateCell } from '../commands/cell-commands.js';
import { appendOutput } from '../commands/output-commands.js';
import { cellIds, cellsOf } from '../model/notebook-doc.js';
import { fixtureDocs } from '../testing/fixture-doc.js';
import { checkUpdate, duplicateCellIds, duplicatesIfApplied } from './check-update.js';

describe(checkUpdate.name, () => {
  it.each([
    ['random bytes', new Uint8Array([200, 1, 2, 3])],
    ['an empty buffer', new Uint8Array([])],
  ])('refuses %s with BAD_REQUEST', (_what, bytes) => {
    expect(() => checkUpdate(bytes)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }) as Error);
  });

  it('refuses a truncated update', () => {
    const { doc } = fixtureDocs();
    const update = Y.encodeStateAsUpdate(doc);
    expect(() => checkUpdate(update.slice(0, update.length / 2))).toThrow(/malformed Yjs update/);
  });

  it('counts the structs and deletions of a valid update', () => {
    const { doc } = fixtureDocs();
    expect(checkUpdate(updateCell(doc, cellIds(doc)[0], { source: 'typed' }).update)).toEqual({ structs: 1, deletions: 1 });
    expect(checkUpdate(insertCell(doc, { cell_type: 'code' }).update).deletions).toBe(0);
  });
});

describe(duplicateCellIds.name, () => {
  it('lists the ids used by more than one cell', () => {
    const { doc } = fixtureDocs();
    const [first] = cellIds(doc);
    cellsOf(doc).get(1).set('id', first);
    expect(duplicateCellIds(doc)).toEqual([first]);
  });
});

describe(duplicatesIfApplied.name, () => {
  it('finds the id that two replicas inserting the same cell concurrently would duplicate, without changing the doc', () => {
    const { doc, replica } = fixtureDocs();
    insertCell(doc, { cell_type: 'code', id: 'same' });
    const remote = insertCell(replica, { cell_type: 'code', id: 'same' }).update;
    const before = Y.encodeStateAsUpdate(doc);
    expect(duplicatesIfApplied(doc, remote)).toEqual(['same']);
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before);
  });

  it('finds an id set to another cell id', () => {
    const { doc, replica } = fixtureDocs();
    const ids = cellIds(replica);
    const sv = Y.encodeStateVector(replica);
    cellsOf(replica).get(1).set('id', ids[0]);
    expect(duplicatesIfApplied(doc, Y.encodeStateAsUpdate(replica, sv))).toEqual([ids[0]]);
  });

  it('finds an id set by an update that also creates the value it overwrites', () => {
    const { doc, replica } = fixtureDocs();
    const ids = cellIds(replica);
    const sv = Y.encodeStateVector(replica);
    cellsOf(replica).get(1).set('id', 'temp');
    cellsOf(replica).get(1).set('id', ids[0]);
    expect(duplicatesIfApplied(doc, Y.encodeStateAsUpdate(replica, sv))).toEqual([ids[0]]);
  });

  it('accepts edits and new outputs', () => {
    const { doc, replica } = fixtureDocs();
    const ids = cellIds(replica);
    expect(duplicatesIfApplied(doc, updateCell(replica, ids[0], { source: 'x' }).update)).toEqual([]);
    expect(duplicatesIfApplied(doc, appendOutput(replica, ids[3], { output_type: 'display_data', data: {}, metadata: {} }).update)).toEqual([]);
    expect(duplicatesIfApplied(doc, insertCell(replica, { cell_type: 'raw' }).update)).toEqual([]);
  });
});
