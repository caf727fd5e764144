import type { DocChange, EventType } from './events.js';

/** The kinds of change that carry nothing but a cell id, by the event type an update of only that kind gets. */
const CELL_ONLY_KIND: Partial<Record<EventType, 'deleted' | 'source_edited' | 'metadata_changed' | 'outputs_changed' | 'execution_changed'>> = {
  'notebook.cell.deleted': 'deleted',
  'notebook.cell.source_edited': 'source_edited',
  'notebook.cell.metadata_changed': 'metadata_changed',
  'notebook.cell.outputs_changed': 'outputs_changed',
  'notebook.cell.execution_changed': 'execution_changed',
};

/**
 * The changes an event's type and `cell_ids` stand for when its changes carry nothing but cell ids (a
 * keystroke's `source_edited`, say): one change of the type's kind per cell. Null for any other type.
 */
export function impliedChanges(type: string, cellIds: readonly string[]): DocChange[] | null {
  const kind = CELL_ONLY_KIND[type as EventType];
  return kind ? cellIds.map((cellId) => ({ kind, cell_id: cellId })) : null;
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
