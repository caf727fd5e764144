import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { exportNotebook } from '../model/export-notebook.js';
import { cellIds } from '../model/notebook-doc.js';
import { fixtureDocs, fixtureNotebook } from '../testing/fixture-doc.js';
import { loadNotebook, setNotebookMetadata } from './notebook-commands.js';

describe(loadNotebook.name, () => {
  it('loads a notebook in one update that reports every cell inserted', () => {
    const notebook = fixtureNotebook('nbformat/test4.5.ipynb');
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    const result = loadNotebook(doc, notebook);
    expect(updates).toEqual([result.update]);
    expect(result.changes).toEqual([
      ...notebook.cells.map((cell, index) => ({ kind: 'inserted', cell_id: cell.id, index })),
      { kind: 'notebook_metadata_changed' },
    ]);
  });

  it('replaces the content of a document that has one (a restore)', () => {
    const { doc, replica } = fixtureDocs('nbformat/test4plus.ipynb');
    const other = fixtureNotebook('nbformat/test4.5.ipynb');
    const result = loadNotebook(doc, other);
    Y.applyUpdate(replica, result.update);
    expect(exportNotebook(replica)).toEqual(other);
    expect(cellIds(doc)).toEqual(other.cells.map((cell) => cell.id));
  });
});

describe(setNotebookMetadata.name, () => {
  it('replaces the notebook metadata and reports notebook_metadata_changed', () => {
    const { doc, replica } = fixtureDocs();
    const result = setNotebookMetadata(doc, { title: 'T', kernelspec: { name: 'python3', display_name: 'Python 3' } });
    expect(result.changes).toEqual([{ kind: 'notebook_metadata_changed' }]);
    Y.applyUpdate(replica, result.update);
    expect(exportNotebook(replica).metadata).toEqual({ title: 'T', kernelspec: { name: 'python3', display_name: 'Python 3' } });
  });

  it('refuses metadata that is not valid nbformat, naming the path', () => {
    const { doc } = fixtureDocs();
    expect(() => setNotebookMetadata(doc, { kernelspec: 'python' })).toThrow('/metadata/kernelspec');
  });
});
