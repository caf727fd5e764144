import type { INotebookContent } from '@jupyterlab/nbformat';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { loadNotebook } from '../commands/notebook-commands.js';
import { ACCEPTED_FIXTURES, fixtureNotebook as validated, normalized } from '../testing/fixture-doc.js';
import { UNRECOGNIZED_CELL_KEY } from './cell-map.js';
import { exportCell, exportNotebook } from './export-notebook.js';
import { cellsOf, metaOf } from './notebook-doc.js';

const VALID = ACCEPTED_FIXTURES;

function docOf(notebook: INotebookContent): Y.Doc {
  const doc = new Y.Doc();
  loadNotebook(doc, notebook);
  return doc;
}

describe(exportNotebook.name, () => {
  it.each(VALID)('round-trips %s without loss', (name) => {
    const notebook = validated(name);
    expect(normalized(exportNotebook(docOf(notebook)))).toEqual(normalized(notebook));
  });

  it.each(VALID)('rebuilds the same notebook from the load update alone (%s)', (name) => {
    const notebook = validated(name);
    const { update } = loadNotebook(new Y.Doc(), notebook);
    const replica = new Y.Doc();
    Y.applyUpdate(replica, update);
    expect(exportNotebook(replica)).toEqual(exportNotebook(docOf(notebook)));
  });

  it('writes multiline strings as lists of lines, as nbformat does', () => {
    const notebook = validated('nbformat/test4.5.ipynb');
    const exported = exportNotebook(docOf(notebook));
    expect(exported).toEqual(notebook);
  });

  it('exports a 4.4 notebook as 4.5 with the generated ids', () => {
    const notebook = validated('nbformat/many_tracebacks.ipynb');
    const exported = exportNotebook(docOf(notebook));
    expect(exported.nbformat_minor).toBe(5);
    expect(exported.cells.map((cell) => cell.id)).toEqual(notebook.cells.map((cell) => cell.id));
  });

  it('keeps the unknown fields of a future minor where the doc documents them', () => {
    const doc = docOf(validated('nbformat/test4plus.ipynb'));
    expect(metaOf(doc).get('extra')).toBe('future');
    const cells = cellsOf(doc).toArray();
    expect(cells[0].get('extra')).toBe(5);
    expect(cells[9].get('cell_type')).toBe('raw');
    expect(cells[9].get(UNRECOGNIZED_CELL_KEY)).toEqual({ cell_type: 'future cell', source: false });
    const exported = exportNotebook(doc);
    expect(exported.extra).toBe('future');
    expect(exported.cells[9]).toEqual({ id: cells[9].get('id'), cell_type: 'future cell', metadata: {}, key: 'value' });
    expect(exported.nbformat_minor).toBe(99);
  });

  it('stores the jupyter_ydoc schema: Y.Text sources, Y.Map metadata, Y.Array outputs, Y.Text stream text', () => {
    const doc = docOf(validated('nbformat/test4.5.ipynb'));
    const meta = metaOf(doc);
    expect(meta.get('metadata')).toBeInstanceOf(Y.Map);
    expect(meta.get('nbformat')).toBe(4);
    const code = cellsOf(doc).toArray().find((cell) => cell.get('cell_type') === 'code')!;
    expect(code.get('source')).toBeInstanceOf(Y.Text);
    expect(code.get('metadata')).toBeInstanceOf(Y.Map);
    const outputs = code.get('outputs') as Y.Array<Y.Map<unknown>>;
    expect(outputs).toBeInstanceOf(Y.Array);
    expect(outputs.get(0).get('text')).toBeInstanceOf(Y.Text);
    expect(Number.isInteger(code.get('execution_count'))).toBe(true);
    const markdown = cellsOf(doc).toArray().find((cell) => cell.get('cell_type') === 'markdown')!;
    expect(markdown.has('outputs')).toBe(false);
    expect(markdown.has('execution_count')).toBe(false);
  });

  it('keeps execution counts and nbformat integers through a binary round trip', () => {
    const replica = new Y.Doc();
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(docOf(validated('nbformat/test4.5.ipynb'))));
    const exported = exportNotebook(replica);
    expect(Number.isInteger(exported.nbformat) && Number.isInteger(exported.nbformat_minor)).toBe(true);
    const counts = exported.cells.flatMap((cell) => (cell.cell_type === 'code' ? [cell.execution_count] : []));
    expect(counts.length).toBeGreaterThan(0);
    expect(counts.every((count) => count === null || Number.isInteger(count))).toBe(true);
  });

  it('exports one cell by id', () => {
    const notebook = validated('nbformat/test4.5.ipynb');
    const doc = docOf(notebook);
    expect(exportCell(doc, notebook.cells[2].id as string)).toEqual(notebook.cells[2]);
  });
});
