import type { DocChange } from '@palimpsest/contracts';
import { describe, expect, it } from 'vitest';
import { changedCellIds, eventTypeFor, storedChangeFields } from './event-type.js';

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

describe(storedChangeFields.name, () => {
  const stored = (changes: DocChange[]) => storedChangeFields(eventTypeFor(changes), changedCellIds(changes), changes);

  it('stores nothing for changes that carry only cell ids, one per cell of one kind (a keystroke)', () => {
    expect(stored([{ kind: 'source_edited', cell_id: 'a' }])).toEqual({});
    expect(stored([{ kind: 'deleted', cell_id: 'a' }, { kind: 'deleted', cell_id: 'b' }])).toEqual({});
  });

  it('stores changes and description when the type and cell ids do not say it all', () => {
    const cases: DocChange[][] = [
      [{ kind: 'inserted', cell_id: 'a', index: 0 }],
      [{ kind: 'type_changed', cell_id: 'a', cell_type: 'markdown' }],
      [{ kind: 'outputs_changed', cell_id: 'a' }, { kind: 'execution_changed', cell_id: 'a' }],
      [{ kind: 'source_edited', cell_id: 'a' }, { kind: 'source_edited', cell_id: 'a' }],
      [{ kind: 'notebook_metadata_changed' }],
      [],
    ];
    for (const changes of cases) {
      expect(stored(changes)).toEqual({ changes, description: expect.any(String) });
    }
  });
});
