/** One run of a diff: items kept, inserted (only in the new sequence) or deleted (only in the old one). */
export interface DiffRun<T> {
  op: 'equal' | 'insert' | 'delete';
  items: T[];
}

/**
 * A shortest edit script between two sequences (Myers' O((N+M)·D) algorithm, after trimming the
 * common prefix and suffix), as runs of equal, deleted and inserted items in order. Past
 * MAX_EDIT_STEPS differences the middle is reported as replaced wholesale, which bounds time and memory.
 */
export function diffSequences<T>(before: readonly T[], after: readonly T[], equal: (a: T, b: T) => boolean = Object.is): DiffRun<T>[] {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && equal(before[prefix], after[prefix])) prefix += 1;
  let suffix = 0;
  while (
    suffix < before.length - prefix &&
    suffix < after.length - prefix &&
    equal(before[before.length - 1 - suffix], after[after.length - 1 - suffix])
  ) {
    suffix += 1;
  }
  const a = before.slice(prefix, before.length - suffix);
  const b = after.slice(prefix, after.length - suffix);
  const runs: DiffRun<T>[] = [];
  const push = (op: DiffRun<T>['op'], item: T): void => {
    const last = runs[runs.length - 1];
    if (last?.op === op) last.items.push(item);
    else runs.push({ op, items: [item] });
  };
  for (const item of before.slice(0, prefix)) push('equal', item);
  for (const [op, item] of middleEdits(a, b, equal)) push(op, item);
  for (const item of before.slice(before.length - suffix)) push('equal', item);
  return runs;
}

/** Most differences searched for a minimal script (memory grows with its square). */
const MAX_EDIT_STEPS = 2000;

/** Myers' greedy forward search, then a backtrack through the saved frontiers into edits in order. */
function middleEdits<T>(a: readonly T[], b: readonly T[], equal: (x: T, y: T) => boolean): Array<[DiffRun<T>['op'], T]> {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] keeps the frontier before step d, for diagonals -d-1..d+1 only (all the backtrack reads).
  const trace: Int32Array[] = [];
  let found = max === 0;
  for (let d = 0; d <= max && !found; d++) {
    if (d > MAX_EDIT_STEPS) return [...a.map((item) => ['delete', item] as [DiffRun<T>['op'], T]), ...b.map((item) => ['insert', item] as [DiffRun<T>['op'], T])];
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && equal(a[x], b[y])) {
        x += 1;
        y += 1;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  const edits: Array<[DiffRun<T>['op'], T]> = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const at = (k: number): number => trace[d][k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x -= 1;
      y -= 1;
      edits.push(['equal', a[x]]);
    }
    if (d > 0) {
      if (x === prevX) edits.push(['insert', b[--y]]);
      else edits.push(['delete', a[--x]]);
    }
  }
  return edits.reverse();
}
