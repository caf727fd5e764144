import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { moveCell, updateCell } from '../commands/cell-commands.js';
import { cellIds } from '../model/notebook-doc.js';
import { fixtureDocs } from '../testing/fixture-doc.js';
import { isEmptyUpdate, mergeCollaboratorUpdate } from './collaborator-update.js';

describe(mergeCollaboratorUpdate.name, () => {
  it('applies an edit and returns the update it integrated with its changes', () => {
    const { doc, replica } = fixtureDocs();
    const id = cellIds(doc)[0];
    const edit = updateCell(replica, id, { source: 'typed' }).update;
    const result = mergeCollaboratorUpdate(doc, edit, 'client');
    expect(result.changes).toEqual([{ kind: 'source_edited', cell_id: id }]);
    expect(result.repaired).toEqual([]);
    expect(isEmptyUpdate(result.update)).toBe(false);
  });

  it('integrates nothing, and says so, for an update the document already holds', () => {
    const { doc, replica } = fixtureDocs();
    const edit = updateCell(replica, cellIds(doc)[0], { source: 'typed' }).update;
    mergeCollaboratorUpdate(doc, edit, 'client');
    const again = mergeCollaboratorUpdate(doc, edit, 'client');
    expect(again.changes).toEqual([]);
    expect(isEmptyUpdate(again.update)).toBe(true);
  });

  it('removes the extra copy that two concurrent moves of one cell create, so ids stay unique', () => {
    const { doc, replica } = fixtureDocs();
    const ids = cellIds(doc);
    const moved = ids[0];
    moveCell(doc, moved, ids.length - 1);
    const concurrent = moveCell(replica, moved, 1).update;
    const result = mergeCollaboratorUpdate(doc, concurrent, 'client');
    expect(result.repaired).toEqual([moved]);
    expect(cellIds(doc).filter((id) => id === moved)).toHaveLength(1);
    expect(new Set(cellIds(doc)).size).toBe(ids.length);
    // The replica converges once it receives the merged update (which carries the repair).
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
    expect(cellIds(replica)).toEqual(cellIds(doc));
  });

  it('refuses malformed bytes with BAD_REQUEST and leaves the document alone', () => {
    const { doc } = fixtureDocs();
    const before = Y.encodeStateVector(doc);
    expect(() => mergeCollaboratorUpdate(doc, Uint8Array.of(1, 2, 250), 'client')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }) as Error);
    expect(Y.encodeStateVector(doc)).toEqual(before);
  });
});
