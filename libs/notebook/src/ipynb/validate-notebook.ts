import type { INotebookContent } from '@jupyterlab/nbformat';
import { isCellId, newCellId } from './cell-id.js';
import { cloneJson, isJsonObject, type JsonObject } from './json.js';
import { schemaProblems, type Problem } from './nbformat-schema.js';

/** The newest nbformat minor version whose schema this library has. */
export const CURRENT_NBFORMAT_MINOR = 5;

/** A duplicate cell id that import replaced: the cell at `index` had `from`, now has `to`. */
export interface CellIdRename {
  index: number;
  from: string;
  to: string;
}

/** A cell that had no id (nbformat 4.0-4.4, or a 4.5 file without one) and got `id`. */
export interface GeneratedCellId {
  index: number;
  id: string;
}

/** The outcome of validating an nbformat document: the notebook ready to load, or what is wrong. */
export type NotebookValidation =
  | { ok: true; notebook: INotebookContent; renamed: CellIdRename[]; generatedIds: GeneratedCellId[] }
  | { ok: false; problems: Problem[] };

const failure = (path: string, message: string): NotebookValidation => ({ ok: false, problems: [{ path, message }] });

function cellsOf(notebook: JsonObject): JsonObject[] {
  return Array.isArray(notebook.cells) ? notebook.cells.filter(isJsonObject) : [];
}

function addMissingIds(cells: JsonObject[]): GeneratedCellId[] {
  const taken = new Set(cells.map((cell) => cell.id).filter(isCellId));
  const generated: GeneratedCellId[] = [];
  cells.forEach((cell, index) => {
    if (cell.id !== undefined) return;
    const id = newCellId(taken);
    taken.add(id);
    cell.id = id;
    generated.push({ index, id });
  });
  return generated;
}

function renameDuplicateIds(cells: JsonObject[]): CellIdRename[] {
  const taken = new Set(cells.map((cell) => cell.id as string));
  const seen = new Set<string>();
  const renamed: CellIdRename[] = [];
  cells.forEach((cell, index) => {
    const from = cell.id as string;
    if (!seen.has(from)) return void seen.add(from);
    const to = newCellId(taken);
    taken.add(to);
    cell.id = to;
    renamed.push({ index, from, to });
  });
  return renamed;
}

/**
 * Validates an nbformat v4 document with the nbformat 4.5 JSON schema and returns a copy ready to
 * load: cells without an id get one, a repeated id is replaced (and reported), 4.0-4.4 become 4.5.
 * A newer 4.x minor is checked leniently and keeps its unknown fields; nbformat 1-3 are refused.
 */
export function validateNotebook(json: unknown): NotebookValidation {
  if (!isJsonObject(json)) return failure('', 'a notebook must be a JSON object');
  if (typeof json.nbformat === 'number' && json.nbformat !== 4) {
    return failure('/nbformat', `only nbformat 4 is accepted, this notebook is nbformat ${json.nbformat}`);
  }
  const notebook = cloneJson(json);
  const minor = notebook.nbformat_minor;
  const cells = cellsOf(notebook);
  const generatedIds = addMissingIds(cells);
  const problems = schemaProblems(notebook, typeof minor === 'number' && minor > CURRENT_NBFORMAT_MINOR ? 'future' : 'current');
  if (problems.length > 0) return { ok: false, problems };
  const renamed = renameDuplicateIds(cells);
  notebook.nbformat_minor = Math.max(minor as number, CURRENT_NBFORMAT_MINOR);
  return { ok: true, notebook: notebook as INotebookContent, renamed, generatedIds };
}

/** One line naming every problem with its path, for an error message. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map(({ path, message }) => `${path || '(root)'}: ${message}`).join('; ');
}
