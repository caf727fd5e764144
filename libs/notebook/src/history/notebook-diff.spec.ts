import type { ICell, INotebookContent } from '@jupyterlab/nbformat';
import { describe, expect, it } from 'vitest';
import { diffNotebooks } from './notebook-diff.js';

const code = (id: string, source: string, outputs: unknown[] = [], count: number | null = null): ICell =>
  ({ id, cell_type: 'code', source, metadata: {}, outputs, execution_count: count }) as ICell;
const markdown = (id: string, source: string): ICell => ({ id, cell_type: 'markdown', source, metadata: {} });
const notebook = (...cells: ICell[]): INotebookContent => ({ cells, metadata: {}, nbformat: 4, nbformat_minor: 5 });

describe(diffNotebooks.name, () => {
  it('reports inserted, deleted, edited (with a line diff), outputs changed and moved cells, with sorted actors', () => {
    const from = notebook(markdown('t', '# T'), code('a', 'x = 1\ny = 2'), code('b', 'print(x)'), code('gone', 'old'));
    const to = notebook(code('b', 'print(x)', [{ output_type: 'stream', name: 'stdout', text: '1\n' }], 1), markdown('t', '# T'), code('a', 'x = 1\ny = 3'), code('new', 'z'));
    const actors = new Map([
      ['a', new Set(['bob', 'alice'])],
      ['b', new Set(['kernel:k1', 'alice'])],
      ['new', new Set(['bob'])],
    ]);

    const cells = diffNotebooks(from, to, actors);

    expect(cells).toEqual([
      expect.objectContaining({ cell_id: 'b', change: 'outputs_changed', changes: ['outputs_changed', 'moved'], actors: ['alice', 'kernel:k1'], from_index: 2, to_index: 0 }),
      expect.objectContaining({
        cell_id: 'a',
        change: 'edited',
        changes: ['edited'],
        actors: ['alice', 'bob'],
        source_diff: [
          { op: 'equal', items: ['x = 1'] },
          { op: 'delete', items: ['y = 2'] },
          { op: 'insert', items: ['y = 3'] },
        ],
      }),
      expect.objectContaining({ cell_id: 'new', change: 'inserted', source: 'z', to_index: 3, from_index: null }),
      expect.objectContaining({ cell_id: 'gone', change: 'deleted', source: 'old', from_index: 3, to_index: null, actors: [] }),
    ]);
  });

  it('reports nothing for equal notebooks, and a type change as an edit naming the old type', () => {
    const nb = notebook(code('a', 'x'), markdown('b', 'y'));
    expect(diffNotebooks(nb, nb, new Map())).toEqual([]);
    const changed = diffNotebooks(nb, notebook(code('a', 'x'), { ...markdown('b', 'y'), cell_type: 'raw' }), new Map());
    expect(changed).toEqual([expect.objectContaining({ cell_id: 'b', change: 'edited', cell_type: 'raw', previous_cell_type: 'markdown' })]);
    expect(changed[0].source_diff).toBeUndefined();
  });
});
