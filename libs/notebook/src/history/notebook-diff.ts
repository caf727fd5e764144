import type { ICell, INotebookContent } from '@jupyterlab/nbformat';
import { diffSequences, type DiffRun } from './sequence-diff.js';

/** How a cell differs between two points of a notebook's history. */
export type CellChangeKind = 'inserted' | 'deleted' | 'moved' | 'edited' | 'outputs_changed';

/** One changed cell in a diff: the main change, every change, who touched it in between, and its source diff. */
export interface CellDiff {
  cell_id: string;
  /** The main change (inserted/deleted first, then edited, outputs_changed, moved). */
  change: CellChangeKind;
  /** Every change of the cell, in that order. */
  changes: CellChangeKind[];
  /** Users (or `kernel:<id>`) whose events touched the cell between the two points, sorted. */
  actors: string[];
  cell_type: string;
  from_index: number | null;
  to_index: number | null;
  /** Line diff of the source, for an edited cell whose source changed. */
  source_diff?: DiffRun<string>[];
  /** The source of an inserted (new) or deleted (old) cell. */
  source?: string;
  /** The old type of a cell whose `cell_type` changed. */
  previous_cell_type?: string;
}

const ORDER: CellChangeKind[] = ['inserted', 'deleted', 'edited', 'outputs_changed', 'moved'];

/** A cell's source as one string, whether stored as a string or a list of lines. */
export function sourceText(cell: ICell): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/** Splits a source into lines (without their line breaks). */
export function sourceLines(source: string): string[] {
  return source === '' ? [] : source.split('\n');
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The changes of a cell present at both points. */
function changesOf(before: ICell, after: ICell, moved: boolean): CellChangeKind[] {
  const kinds: CellChangeKind[] = [];
  if (sourceText(before) !== sourceText(after) || before.cell_type !== after.cell_type || !sameJson(before.metadata, after.metadata)) kinds.push('edited');
  if (!sameJson(before.outputs, after.outputs) || !sameJson(before.execution_count, after.execution_count)) kinds.push('outputs_changed');
  if (moved) kinds.push('moved');
  return kinds;
}

/**
 * The per-cell difference between two versions of a notebook: inserted, deleted, moved (out of the
 * relative order of the cells both versions share), edited (source, type or metadata, with a line
 * diff of the source) and outputs changed, each with the actors that touched the cell in between.
 */
export function diffNotebooks(from: INotebookContent, to: INotebookContent, actorsByCell: ReadonlyMap<string, ReadonlySet<string>>): CellDiff[] {
  const idOf = (cell: ICell) => cell.id as string;
  const before = new Map(from.cells.map((cell, index) => [idOf(cell), { cell, index }]));
  const after = new Map(to.cells.map((cell, index) => [idOf(cell), { cell, index }]));
  const shared = (cells: ICell[], other: Map<string, unknown>) => cells.map(idOf).filter((id) => other.has(id));
  const kept = new Set(
    diffSequences(shared(from.cells, after), shared(to.cells, before))
      .filter((run) => run.op === 'equal')
      .flatMap((run) => run.items),
  );
  const diffs: CellDiff[] = [];
  const add = (id: string, kinds: CellChangeKind[], cell: ICell, extra: Partial<CellDiff>): void => {
    if (kinds.length === 0) return;
    kinds.sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
    const actors = [...(actorsByCell.get(id) ?? [])].sort();
    diffs.push({ cell_id: id, change: kinds[0], changes: kinds, actors, cell_type: cell.cell_type, from_index: null, to_index: null, ...extra });
  };
  for (const [id, { cell, index }] of after) {
    const old = before.get(id);
    if (!old) {
      add(id, ['inserted'], cell, { to_index: index, source: sourceText(cell) });
      continue;
    }
    const kinds = changesOf(old.cell, cell, !kept.has(id));
    const extra: Partial<CellDiff> = { from_index: old.index, to_index: index };
    if (sourceText(old.cell) !== sourceText(cell)) extra.source_diff = diffSequences(sourceLines(sourceText(old.cell)), sourceLines(sourceText(cell)));
    if (old.cell.cell_type !== cell.cell_type) extra.previous_cell_type = old.cell.cell_type;
    add(id, kinds, cell, extra);
  }
  for (const [id, { cell, index }] of before) {
    if (!after.has(id)) add(id, ['deleted'], cell, { from_index: index, source: sourceText(cell) });
  }
  return diffs;
}
