import { describe, expect, it } from 'vitest';
import { diffSequences, type DiffRun } from './sequence-diff.js';

/** Applies a diff to its old sequence: must give the new one. */
function apply<T>(runs: DiffRun<T>[]): { before: T[]; after: T[] } {
  return {
    before: runs.filter((r) => r.op !== 'insert').flatMap((r) => r.items),
    after: runs.filter((r) => r.op !== 'delete').flatMap((r) => r.items),
  };
}

const changed = (runs: DiffRun<unknown>[]) => runs.filter((r) => r.op !== 'equal').reduce((n, r) => n + r.items.length, 0);

describe(diffSequences.name, () => {
  it('returns one equal run for equal sequences and nothing for two empty ones', () => {
    expect(diffSequences(['a', 'b'], ['a', 'b'])).toEqual([{ op: 'equal', items: ['a', 'b'] }]);
    expect(diffSequences([], [])).toEqual([]);
  });

  it('finds a minimal script for the classic ABCABBA / CBABAC example (5 edits)', () => {
    const runs = diffSequences([...'ABCABBA'], [...'CBABAC']);
    expect(apply(runs)).toEqual({ before: [...'ABCABBA'], after: [...'CBABAC'] });
    expect(changed(runs)).toBe(5);
  });

  it('reports an inserted, a deleted and a replaced line', () => {
    expect(diffSequences(['x = 1', 'y = 2', 'print(x)'], ['x = 1', 'z = 3', 'print(x)', 'done'])).toEqual([
      { op: 'equal', items: ['x = 1'] },
      { op: 'delete', items: ['y = 2'] },
      { op: 'insert', items: ['z = 3'] },
      { op: 'equal', items: ['print(x)'] },
      { op: 'insert', items: ['done'] },
    ]);
    expect(diffSequences(['a'], [])).toEqual([{ op: 'delete', items: ['a'] }]);
    expect(diffSequences([], ['a'])).toEqual([{ op: 'insert', items: ['a'] }]);
  });

  it('round-trips random sequences with a script no longer than the trivial one', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: Math.floor(random() * 30) }, () => Math.floor(random() * 5));
      const b = Array.from({ length: Math.floor(random() * 30) }, () => Math.floor(random() * 5));
      const runs = diffSequences(a, b);
      expect(apply(runs)).toEqual({ before: a, after: b });
      expect(changed(runs)).toBeLessThanOrEqual(a.length + b.length);
    }
  });

  it('falls back to a wholesale replacement past the edit limit, still correct', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`);
    expect(apply(diffSequences(a, b))).toEqual({ before: a, after: b });
  });

  it('uses the given equality (cells by id)', () => {
    const runs = diffSequences([{ id: 1 }, { id: 2 }], [{ id: 2 }], (x, y) => x.id === y.id);
    expect(runs.map((r) => r.op)).toEqual(['delete', 'equal']);
  });
});
