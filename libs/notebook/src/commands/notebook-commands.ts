import type { INotebookContent } from '@jupyterlab/nbformat';
import * as Y from 'yjs';
import { cloneJson, type JsonObject } from '../ipynb/json.js';
import { cellToMap } from '../model/cell-map.js';
import { exportNotebook } from '../model/export-notebook.js';
import { jsonToMap, replaceMapContents } from '../model/json-map.js';
import { cellsOf, metaOf } from '../model/notebook-doc.js';
import { COMMAND_ORIGIN, runCommand, type CommandResult } from './run-command.js';
import { assertSchema } from './validation.js';

/** Makes `meta.metadata` equal to `metadata`, reusing the Y.Map when there is one. */
function writeNotebookMetadata(meta: Y.Map<unknown>, metadata: JsonObject): void {
  const current = meta.get('metadata');
  if (current instanceof Y.Map) replaceMapContents(current, metadata);
  else meta.set('metadata', jsonToMap(metadata));
}

/**
 * Replaces the document's content with a notebook, in one transaction: pass the `notebook` of a
 * successful `validateNotebook` (unique ids, valid content). Unknown top-level fields go to `meta`.
 */
export function loadNotebook(doc: Y.Doc, notebook: INotebookContent, origin: unknown = COMMAND_ORIGIN): CommandResult {
  const meta = metaOf(doc);
  const cells = cellsOf(doc);
  const { cells: newCells, metadata, ...fields } = notebook;
  return runCommand(doc, origin, () => {
    for (const key of [...meta.keys()]) if (!(key in fields) && key !== 'metadata') meta.delete(key);
    for (const [key, value] of Object.entries(fields)) meta.set(key, cloneJson(value));
    writeNotebookMetadata(meta, metadata);
    if (cells.length > 0) cells.delete(0, cells.length);
    cells.push(newCells.map(cellToMap));
  });
}

/** Replaces the notebook-level metadata; UNPROCESSABLE when the result would not be valid nbformat. */
export function setNotebookMetadata(doc: Y.Doc, metadata: JsonObject, origin: unknown = COMMAND_ORIGIN): CommandResult {
  assertSchema(doc, { ...exportNotebook(doc), cells: [], metadata }, undefined, '');
  return runCommand(doc, origin, () => writeNotebookMetadata(metaOf(doc), metadata));
}
