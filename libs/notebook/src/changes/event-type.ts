import type { DocChange, YjsEventType } from '@palimpsest/contracts';

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

function describeChange(change: DocChange): string {
  switch (change.kind) {
    case 'inserted':
      return `cell ${change.cell_id} inserted at ${change.index}`;
    case 'deleted':
      return `cell ${change.cell_id} deleted`;
    case 'moved':
      return `cell ${change.cell_id} moved to ${change.index}`;
    case 'source_edited':
      return `cell ${change.cell_id} source edited`;
    case 'metadata_changed':
      return `cell ${change.cell_id} metadata changed`;
    case 'type_changed':
      return `cell ${change.cell_id} changed to ${change.cell_type}`;
    case 'outputs_changed':
      return `cell ${change.cell_id} outputs changed`;
    case 'execution_changed':
      return `cell ${change.cell_id} execution count changed`;
    case 'notebook_metadata_changed':
      return 'notebook metadata changed';
  }
}

const MAX_DESCRIBED = 3;

/** A one-line human description of the changes (`cell 3f2a source edited`). */
export function describeChanges(changes: readonly DocChange[]): string {
  if (changes.length === 0) return 'no change';
  const described = changes.slice(0, MAX_DESCRIBED).map(describeChange).join(', ');
  const rest = changes.length - MAX_DESCRIBED;
  return rest > 0 ? `${described} and ${rest} more change${rest === 1 ? '' : 's'}` : described;
}

/** The distinct cell ids the changes touch, in order (an event's `cell_ids`). */
export function changedCellIds(changes: readonly DocChange[]): string[] {
  return [...new Set(changes.flatMap((change) => ('cell_id' in change ? [change.cell_id] : [])))];
}
