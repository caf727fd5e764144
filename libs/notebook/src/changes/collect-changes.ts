import type { DocChange } from '@palimpsest/contracts';
import * as Y from 'yjs';
import { cellIdOf, cellsOf, metaOf, type CellMap } from '../model/notebook-doc.js';

type CellEditKind = Exclude<DocChange['kind'], 'inserted' | 'deleted' | 'moved' | 'notebook_metadata_changed'>;

/** Which change a write under each cell-map key is; keys not listed (unknown fields) count as metadata. */
const KIND_BY_KEY: Record<string, CellEditKind> = {
  source: 'source_edited',
  attachments: 'source_edited',
  metadata: 'metadata_changed',
  cell_type: 'type_changed',
  outputs: 'outputs_changed',
  execution_count: 'execution_changed',
  execution_state: 'execution_changed',
};

/** The cell map a changed type belongs to and the cell-map key it sits under (null: the cell map itself). */
function ownerCell(type: Y.AbstractType<unknown>, cells: Y.Array<CellMap>): { cell: CellMap; key: string | null } | null {
  let key: string | null = null;
  for (let current: Y.AbstractType<unknown> | null = type; current; current = current.parent) {
    if (current.parent === cells) return { cell: current as CellMap, key };
    key = current._item?.parentSub ?? null;
  }
  return null;
}

/** Records, while a transaction's observers run, which kinds of edit each existing cell received. */
function cellEditRecorder(cells: Y.Array<CellMap>, edits: Map<CellMap, Set<CellEditKind>>) {
  return (events: Y.YEvent<Y.AbstractType<unknown>>[]): void => {
    for (const event of events) {
      const owner = ownerCell(event.target, cells);
      if (!owner) continue;
      // Event changes can only be read inside the observer.
      const keys = owner.key === null ? [...event.changes.keys.keys()] : [owner.key];
      const kinds = edits.get(owner.cell) ?? new Set<CellEditKind>();
      for (const key of keys) kinds.add(KIND_BY_KEY[key] ?? 'metadata_changed');
      edits.set(owner.cell, kinds);
    }
  };
}

/** What a cell was before the transaction (a deleted Y.Map no longer answers `get`). */
interface CellBefore {
  id: string;
  type: unknown;
}

/** Inserted, deleted and moved cells, from the cell list before and after. */
function structuralChanges(before: ReadonlyMap<CellMap, CellBefore>, after: CellMap[]): DocChange[] {
  const afterSet = new Set(after);
  const goneById = new Map([...before].filter(([cell]) => !afterSet.has(cell)).map(([, was]) => [was.id, was]));
  const changes: DocChange[] = [];
  after.forEach((cell, index) => {
    if (before.has(cell)) return;
    const cell_id = cellIdOf(cell);
    const previous = goneById.get(cell_id);
    if (!previous) return void changes.push({ kind: 'inserted', cell_id, index });
    // Yjs 13 has no move: a cell deleted and re-inserted (a copy with the same id) in one update moved,
    // or changed type when the copy has another (how YNotebook clients change a cell's type).
    goneById.delete(cell_id);
    const cell_type = cell.get('cell_type') as string;
    changes.push(previous.type === cell_type ? { kind: 'moved', cell_id, index } : { kind: 'type_changed', cell_id, cell_type });
  });
  for (const cell_id of goneById.keys()) changes.push({ kind: 'deleted', cell_id });
  return changes;
}

/** In-place edits of cells that exist before and after, in notebook order. */
function editChanges(after: CellMap[], edits: Map<CellMap, Set<CellEditKind>>): DocChange[] {
  const changes: DocChange[] = [];
  for (const cell of after) {
    const kinds = edits.get(cell);
    if (!kinds) continue;
    const cell_id = cellIdOf(cell);
    if (kinds.has('type_changed')) {
      // A type change restructures the map: the outputs and count it drops or adds are part of it.
      changes.push({ kind: 'type_changed', cell_id, cell_type: cell.get('cell_type') as string });
      for (const implied of ['type_changed', 'outputs_changed', 'execution_changed'] as const) kinds.delete(implied);
    }
    for (const kind of kinds) if (kind !== 'type_changed') changes.push({ kind, cell_id });
  }
  return changes;
}

/**
 * Runs `mutate`, which must change the doc in one (outermost) transaction, and returns the
 * DocChanges it made: structural changes first, then edits in notebook order, then notebook metadata.
 */
export function collectChanges(doc: Y.Doc, mutate: () => void): DocChange[] {
  const cells = cellsOf(doc);
  const meta = metaOf(doc);
  const before = new Map(cells.map((cell): [CellMap, CellBefore] => [cell, { id: cellIdOf(cell), type: cell.get('cell_type') }]));
  const edits = new Map<CellMap, Set<CellEditKind>>();
  let metaChanged = false;
  const onCells = cellEditRecorder(cells, edits);
  const onMeta = (): void => void (metaChanged = true);
  cells.observeDeep(onCells);
  meta.observeDeep(onMeta);
  try {
    mutate();
  } finally {
    cells.unobserveDeep(onCells);
    meta.unobserveDeep(onMeta);
  }
  const after = cells.toArray();
  const existing = new Map([...edits].filter(([cell]) => before.has(cell)));
  return [...structuralChanges(before, after), ...editChanges(after, existing), ...(metaChanged ? [{ kind: 'notebook_metadata_changed' } as const] : [])];
}
