import type { ICell, INotebookContent } from '@jupyterlab/nbformat';
import * as Y from 'yjs';
import { cloneJson } from '../ipynb/json.js';
import { CURRENT_NBFORMAT_MINOR } from '../ipynb/validate-notebook.js';
import { mapToCell } from './cell-map.js';
import { cellsOf, findCell, metaOf } from './notebook-doc.js';

// `meta` keys with a fixed meaning; any other key of `meta` is an unknown top-level notebook field.
const META_KEYS = ['nbformat', 'nbformat_minor', 'metadata'];

/** The document as an nbformat v4 notebook (minor at least 5, every cell with its id, multiline strings as lists of lines). */
export function exportNotebook(doc: Y.Doc): INotebookContent {
  const meta = metaOf(doc);
  const metadata = meta.get('metadata');
  const extras = Object.fromEntries([...meta.entries()].filter(([key]) => !META_KEYS.includes(key)).map(([key, value]) => [key, cloneJson(value)]));
  return {
    ...extras,
    cells: cellsOf(doc).map(mapToCell),
    metadata: metadata instanceof Y.Map ? (metadata.toJSON()) : {},
    nbformat: (meta.get('nbformat') as number | undefined) ?? 4,
    nbformat_minor: Math.max((meta.get('nbformat_minor') as number | undefined) ?? CURRENT_NBFORMAT_MINOR, CURRENT_NBFORMAT_MINOR),
  };
}

/** One cell as nbformat JSON; NOT_FOUND when the document has no cell with this id. */
export function exportCell(doc: Y.Doc, cellId: string): ICell {
  return mapToCell(findCell(doc, cellId).cell);
}
