import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { insertCell, moveCell, updateCell } from '../commands/cell-commands.js';
import { loadNotebook } from '../commands/notebook-commands.js';
import { exportNotebook } from '../model/export-notebook.js';
import { fixtureNotebook } from '../testing/fixture-doc.js';
import { encodeCheckpoint, rebuildDoc } from './rebuild-doc.js';

/** A live doc and the log of updates its commands produced. */
function logged() {
  const doc = new Y.Doc();
  const log = [loadNotebook(doc, fixtureNotebook('nbformat/test4.5.ipynb')).update];
  const inserted = insertCell(doc, { cell_type: 'code', source: 'a' });
  const id = inserted.cell.id as string;
  log.push(inserted.update);
  log.push(updateCell(doc, id, { source: 'ab' }).update);
  log.push(moveCell(doc, id, 0).update);
  return { doc, log };
}

describe(rebuildDoc.name, () => {
  it('rebuilds the live document from its updates in order', () => {
    const { doc, log } = logged();
    expect(exportNotebook(rebuildDoc(null, log))).toEqual(exportNotebook(doc));
  });

  it('rebuilds from a checkpoint and the updates after it', () => {
    const { doc, log } = logged();
    const checkpoint = encodeCheckpoint(rebuildDoc(null, log.slice(0, 2)));
    expect(exportNotebook(rebuildDoc(checkpoint, log.slice(2)))).toEqual(exportNotebook(doc));
  });

  it('gives an empty notebook with nothing to replay', () => {
    expect(exportNotebook(rebuildDoc(null, []))).toEqual({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 });
  });
});
