import type { ICell, IOutput, MultilineString } from '@jupyterlab/nbformat';
import * as Y from 'yjs';
import { cloneJson, type JsonObject } from '../ipynb/json.js';
import { jsonToMap } from './json-map.js';
import { joinMultiline, splitLines } from '../ipynb/multiline.js';
import type { CellMap } from './notebook-doc.js';

/** The cell types of nbformat 4.5; a future minor's other types are kept as placeholders. */
export const CELL_TYPES = ['code', 'markdown', 'raw'] as const;

/** A cell type of nbformat 4.5. */
export type CellType = (typeof CELL_TYPES)[number];

/**
 * Key of a raw placeholder cell standing for a cell type this version does not know (from a future
 * minor): `{cell_type, source}` with the original type and whether it had a source. YNotebook
 * clients only know code, markdown and raw, so the document shows them a raw cell; export restores it.
 */
export const UNRECOGNIZED_CELL_KEY = 'palimpsest:unrecognized';

/** Cell-map keys that jupyter_ydoc keeps in the document but nbformat files do not have. */
const RUNTIME_KEYS = new Set(['execution_state', UNRECOGNIZED_CELL_KEY]);
const EXPORT_ORDER = ['id', 'cell_type', 'metadata', 'source', 'attachments', 'execution_count', 'outputs'];

/** True for the cell types of nbformat 4.5. */
export function isCellType(value: unknown): value is CellType {
  return (CELL_TYPES as readonly unknown[]).includes(value);
}

/** The Y.Map of one output; a stream output's `text` is a Y.Text. */
export function outputToMap(output: IOutput | JsonObject): Y.Map<unknown> {
  return new Y.Map(
    Object.entries(output).map(([key, value]): [string, unknown] =>
      output.output_type === 'stream' && key === 'text' ? [key, new Y.Text(joinMultiline(value as MultilineString))] : [key, cloneJson(value)],
    ),
  );
}

/** The nbformat JSON of an output map, with stream text split into lines. */
export function mapToOutput(output: Y.Map<unknown>): IOutput {
  const json = output.toJSON();
  if (json.output_type === 'stream' && typeof json.text === 'string') json.text = splitLines(json.text);
  return json as IOutput;
}

/** The Y.Map of one nbformat cell (with its id); unknown cell fields are kept as plain keys. */
export function cellToMap(cell: ICell | JsonObject): CellMap {
  const entries = new Map<string, unknown>();
  for (const [key, value] of Object.entries(cell)) {
    if (key === 'source') entries.set(key, new Y.Text(joinMultiline(value as MultilineString)));
    else if (key === 'metadata') entries.set(key, jsonToMap(value));
    else if (key === 'outputs' && cell.cell_type === 'code') entries.set(key, Y.Array.from((value as JsonObject[]).map(outputToMap)));
    else entries.set(key, cloneJson(value));
  }
  if (!isCellType(cell.cell_type)) {
    entries.set(UNRECOGNIZED_CELL_KEY, { cell_type: cell.cell_type, source: 'source' in cell });
    entries.set('cell_type', 'raw');
  }
  if (!entries.has('source')) entries.set('source', new Y.Text());
  if (!entries.has('metadata')) entries.set('metadata', new Y.Map());
  if (cell.cell_type === 'code') {
    if (!entries.has('outputs')) entries.set('outputs', new Y.Array());
    if (!entries.has('execution_count')) entries.set('execution_count', null);
  }
  return new Y.Map(entries);
}

/** The nbformat JSON of a cell map: source split into lines, runtime keys left out, placeholders restored. */
export function mapToCell(cell: CellMap): ICell {
  const json: JsonObject = {};
  for (const [key, value] of cell.entries()) {
    if (RUNTIME_KEYS.has(key)) continue;
    if (key === 'source') json[key] = splitLines(String(value));
    else if (key === 'outputs' && value instanceof Y.Array) json[key] = value.map((output: Y.Map<unknown>) => mapToOutput(output));
    else json[key] = value instanceof Y.AbstractType ? value.toJSON() : cloneJson(value);
  }
  const unrecognized = cell.get(UNRECOGNIZED_CELL_KEY) as { cell_type: string; source: boolean } | undefined;
  if (unrecognized && json.cell_type === 'raw') {
    json.cell_type = unrecognized.cell_type;
    if (!unrecognized.source && (json.source as string[]).length === 0) delete json.source;
  }
  const ordered = [...EXPORT_ORDER.filter((key) => key in json), ...Object.keys(json).filter((key) => !EXPORT_ORDER.includes(key))];
  return Object.fromEntries(ordered.map((key) => [key, json[key]])) as ICell;
}

/**
 * Changes a cell's type in place, restructuring the map per the schema: code cells gain `outputs`
 * and `execution_count` and lose `attachments`; markdown and raw cells lose the code-only keys.
 */
export function restructureCell(cell: CellMap, type: CellType): void {
  cell.delete(UNRECOGNIZED_CELL_KEY);
  cell.set('cell_type', type);
  if (type === 'code') {
    cell.delete('attachments');
    if (!(cell.get('outputs') instanceof Y.Array)) cell.set('outputs', new Y.Array());
    if (!cell.has('execution_count')) cell.set('execution_count', null);
  } else {
    for (const key of ['outputs', 'execution_count', 'execution_state']) cell.delete(key);
  }
}
