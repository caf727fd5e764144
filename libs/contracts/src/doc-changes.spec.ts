import { describe, expect, it } from 'vitest';
import { describeChanges, impliedChanges } from './doc-changes.js';

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

describe(impliedChanges.name, () => {
  it('spells out the changes of a type whose changes carry only cell ids, one per cell', () => {
    expect(impliedChanges('notebook.cell.source_edited', ['a', 'b'])).toEqual([
      { kind: 'source_edited', cell_id: 'a' },
      { kind: 'source_edited', cell_id: 'b' },
    ]);
    expect(impliedChanges('notebook.cell.deleted', ['a'])).toEqual([{ kind: 'deleted', cell_id: 'a' }]);
  });

  it('implies nothing for types whose changes carry more, or several kinds', () => {
    for (const type of ['notebook.cell.inserted', 'notebook.cell.moved', 'notebook.cell.type_changed', 'notebook.doc.updated', 'notebook.metadata_changed', 'notebook.created']) {
      expect(impliedChanges(type, ['a'])).toBeNull();
    }
  });
});
