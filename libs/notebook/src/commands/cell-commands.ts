import type { ICell, MultilineString } from '@jupyterlab/nbformat';
import { DomainError } from '@palimpsest/contracts';
import type * as Y from 'yjs';
import { isCellId, newCellId } from '../ipynb/cell-id.js';
import type { JsonObject } from '../ipynb/json.js';
import { joinMultiline } from '../ipynb/multiline.js';
import { cellToMap, isCellType, mapToCell, restructureCell } from '../model/cell-map.js';
import { replaceMapContents, replaceText } from '../model/json-map.js';
import { cellIds, cellsOf, findCell } from '../model/notebook-doc.js';
import { COMMAND_ORIGIN, runCommand, type CommandResult } from './run-command.js';
import { assertIndex, assertSchema } from './validation.js';

/** A cell to insert: the REST body of `POST /cells`, plus an optional id chosen by the caller. */
export interface NewCell {
  cell_type: string;
  source?: MultilineString;
  metadata?: JsonObject;
  /** Where to insert (0 = first); the end when omitted. */
  index?: number;
  id?: string;
}

/** A change to a cell: the REST body of `PATCH /cells/:cell_id`. */
export interface CellPatch {
  source?: MultilineString;
  metadata?: JsonObject;
  cell_type?: string;
}

function assertCellType(type: unknown): asserts type is 'code' | 'markdown' | 'raw' {
  if (!isCellType(type)) throw new DomainError('UNPROCESSABLE', `cell_type must be "code", "markdown" or "raw", got ${JSON.stringify(type)}`);
}

/** Inserts a cell; UNPROCESSABLE for a bad type, index, id or content. */
export function insertCell(doc: Y.Doc, input: NewCell, origin: unknown = COMMAND_ORIGIN): CommandResult & { cell: ICell; index: number } {
  assertCellType(input.cell_type);
  const cells = cellsOf(doc);
  const index = input.index ?? cells.length;
  assertIndex(index, cells.length);
  const taken = new Set(cellIds(doc));
  if (input.id !== undefined && (!isCellId(input.id) || taken.has(input.id))) {
    throw new DomainError('UNPROCESSABLE', `cell id ${JSON.stringify(input.id)} is ${taken.has(input.id) ? 'already used' : 'not a valid nbformat cell id'}`);
  }
  const json: JsonObject = { id: input.id ?? newCellId(taken), cell_type: input.cell_type, metadata: input.metadata ?? {}, source: input.source ?? '' };
  if (input.cell_type === 'code') Object.assign(json, { execution_count: null, outputs: [] });
  assertSchema(doc, json, 'cell', `/cells/${index}`);
  const map = cellToMap(json);
  const result = runCommand(doc, origin, () => cells.insert(index, [map]));
  return { ...result, cell: mapToCell(map), index };
}

/** Edits a cell's source, metadata and/or type (restructuring the map for the new type); NOT_FOUND for an unknown id. */
export function updateCell(doc: Y.Doc, cellId: string, patch: CellPatch, origin: unknown = COMMAND_ORIGIN): CommandResult & { cell: ICell } {
  const { cell, index } = findCell(doc, cellId);
  if (patch.cell_type !== undefined) assertCellType(patch.cell_type);
  const next: JsonObject = { ...mapToCell(cell) };
  const retype = patch.cell_type !== undefined && patch.cell_type !== next.cell_type ? patch.cell_type : null;
  if (patch.source !== undefined) next.source = patch.source;
  if (patch.metadata !== undefined) next.metadata = patch.metadata;
  if (retype) {
    next.cell_type = retype;
    if (retype === 'code') Object.assign(next, { execution_count: null, outputs: [] });
    for (const key of retype === 'code' ? ['attachments'] : ['execution_count', 'outputs']) delete next[key];
  }
  assertSchema(doc, next, 'cell', `/cells/${index}`);
  const result = runCommand(doc, origin, () => {
    if (retype) restructureCell(cell, retype);
    if (patch.source !== undefined) replaceText(cell.get('source') as Y.Text, joinMultiline(patch.source));
    if (patch.metadata !== undefined) replaceMapContents(cell.get('metadata') as Y.Map<unknown>, patch.metadata);
  });
  return { ...result, cell: mapToCell(cell) };
}

/** Moves a cell to `index` (its position afterwards) by deleting it and inserting a copy with the same id, in one transaction. */
export function moveCell(doc: Y.Doc, cellId: string, index: number, origin: unknown = COMMAND_ORIGIN): CommandResult {
  const { cell, index: from } = findCell(doc, cellId);
  const cells = cellsOf(doc);
  assertIndex(index, cells.length - 1);
  return runCommand(doc, origin, () => {
    if (index === from) return;
    const copy = cell.clone();
    cells.delete(from, 1);
    cells.insert(index, [copy]);
  });
}

/** Deletes a cell; NOT_FOUND for an unknown id. */
export function deleteCell(doc: Y.Doc, cellId: string, origin: unknown = COMMAND_ORIGIN): CommandResult {
  const { index } = findCell(doc, cellId);
  return runCommand(doc, origin, () => cellsOf(doc).delete(index, 1));
}
