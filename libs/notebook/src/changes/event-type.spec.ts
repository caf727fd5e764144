import { describe, expect, it } from 'vitest';
import { changedCellIds, describeChanges, eventTypeFor } from './event-type.js';

describe(eventTypeFor.name, () => {
  it('names the kind when every change is of one kind', () => {
    expect(eventTypeFor([{ kind: 'source_edited', cell_id: 'a' }, { kind: 'source_edited', cell_id: 'b' }])).toBe('notebook.cell.source_edited');
    expect(eventTypeFor([{ kind: 'notebook_metadata_changed' }])).toBe('notebook.metadata_changed');
  });

  it('falls back to notebook.doc.updated for mixed or no changes', () => {
    expect(eventTypeFor([{ kind: 'inserted', cell_id: 'a', index: 0 }, { kind: 'deleted', cell_id: 'b' }])).toBe('notebook.doc.updated');
    expect(eventTypeFor([])).toBe('notebook.doc.updated');
  });
});

describe(describeChanges.name, () => {
  it('describes one change in one line', () => {
    expect(describeChanges([{ kind: 'source_edited', cell_id: '3f2a' }])).toBe('cell 3f2a source edited');
    expect(describeChanges([{ kind: 'type_changed', cell_id: 'c', cell_type: 'markdown' }])).toBe('cell c changed to markdown');
  });

  it('lists the first changes and counts the rest', () => {
    const changes = ['a', 'b', 'c', 'd', 'e'].map((cell_id) => ({ kind: 'deleted' as const, cell_id }));
    expect(describeChanges(changes)).toBe('cell a deleted, cell b deleted, cell c deleted and 2 more changes');
    expect(describeChanges([])).toBe('no change');
  });
});

describe(changedCellIds.name, () => {
  it('lists each touched cell once, in order', () => {
    expect(
      changedCellIds([
        { kind: 'moved', cell_id: 'b', index: 0 },
        { kind: 'notebook_metadata_changed' },
        { kind: 'source_edited', cell_id: 'a' },
        { kind: 'metadata_changed', cell_id: 'b' },
      ]),
    ).toEqual(['b', 'a']);
  });
});
