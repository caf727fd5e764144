import { describeChanges, impliedChanges, type DocChange, type YjsEventType } from '@palimpsest/contracts';

const EVENT_TYPE_BY_KIND: Record<DocChange['kind'], YjsEventType> = {
  inserted: 'notebook.cell.inserted',
  deleted: 'notebook.cell.deleted',
  moved: 'notebook.cell.moved',
  source_edited: 'notebook.cell.source_edited',
  metadata_changed: 'notebook.cell.metadata_changed',
  type_changed: 'notebook.cell.type_changed',
  outputs_changed: 'notebook.cell.outputs_changed',
  execution_changed: 'notebook.cell.execution_changed',
  notebook_metadata_changed: 'notebook.metadata_changed',
};

/** The event type of an update: the specific one when all its changes are of one kind, else `notebook.doc.updated`. */
export function eventTypeFor(changes: readonly DocChange[]): YjsEventType {
  const kinds = new Set(changes.map((change) => change.kind));
  const [kind] = kinds;
  return kinds.size === 1 ? EVENT_TYPE_BY_KIND[kind] : 'notebook.doc.updated';
}

/** The distinct cell ids the changes touch, in order (an event's `cell_ids`). */
export function changedCellIds(changes: readonly DocChange[]): string[] {
  return [...new Set(changes.flatMap((change) => ('cell_id' in change ? [change.cell_id] : [])))];
}

/**
 * The `changes` and `description` an update's event of this type and `cell_ids` stores: none when those imply
 * both (one kind of change that carries only cell ids, once per cell, as a keystroke's), since readers derive
 * them again (`impliedChanges`, `describeChanges`); both otherwise.
 */
export function storedChangeFields(type: YjsEventType, cellIds: readonly string[], changes: readonly DocChange[]): { changes?: DocChange[]; description?: string } {
  // One kind that carries only cell ids (else nothing is implied), and no cell twice: exactly the implied changes.
  const implied = impliedChanges(type, cellIds) !== null && cellIds.length === changes.length;
  return implied ? {} : { changes: [...changes], description: describeChanges(changes) };
}
