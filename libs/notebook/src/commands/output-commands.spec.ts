import type { IOutput } from '@jupyterlab/nbformat';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { exportCell, exportNotebook } from '../model/export-notebook.js';
import { fixtureDocs } from '../testing/fixture-doc.js';
import { insertCell } from './cell-commands.js';
import { appendOutput, clearOutputs, replaceOutputs, setExecutionCount } from './output-commands.js';

const stdout = (text: string): IOutput => ({ output_type: 'stream', name: 'stdout', text });
const result = (count: number): IOutput => ({ output_type: 'execute_result', execution_count: count, data: { 'text/plain': '2' }, metadata: {} });

function codeCellDocs() {
  const { doc, replica } = fixtureDocs();
  const id = insertCell(doc, { cell_type: 'code', source: 'print(1)' }).cell.id as string;
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
  return { doc, replica, id };
}

describe(appendOutput.name, () => {
  it('appends outputs and merges consecutive stream text of the same stream', () => {
    const { doc, replica, id } = codeCellDocs();
    for (const update of [
      appendOutput(doc, id, stdout('a\n')).update,
      appendOutput(doc, id, stdout('b\n')).update,
      appendOutput(doc, id, { output_type: 'stream', name: 'stderr', text: ['oops\n'] }).update,
      appendOutput(doc, id, result(1)).update,
    ])
      Y.applyUpdate(replica, update);
    expect(exportCell(doc, id).outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: ['a\n', 'b\n'] },
      { output_type: 'stream', name: 'stderr', text: ['oops\n'] },
      result(1),
    ]);
    expect(exportNotebook(replica)).toEqual(exportNotebook(doc));
  });

  it('reports outputs_changed for the cell', () => {
    const { doc, id } = codeCellDocs();
    expect(appendOutput(doc, id, stdout('x')).changes).toEqual([{ kind: 'outputs_changed', cell_id: id }]);
    expect(appendOutput(doc, id, stdout('y')).changes).toEqual([{ kind: 'outputs_changed', cell_id: id }]);
  });

  it('refuses an output that is not valid nbformat', () => {
    const { doc, id } = codeCellDocs();
    expect(() => appendOutput(doc, id, { output_type: 'stream', name: 'stdout' })).toThrow(/text/);
  });

  it('refuses outputs on a markdown cell with UNPROCESSABLE', () => {
    const { doc } = fixtureDocs();
    const id = insertCell(doc, { cell_type: 'markdown' }).cell.id as string;
    expect(() => appendOutput(doc, id, stdout('x'))).toThrow(expect.objectContaining({ code: 'UNPROCESSABLE' }));
  });
});

describe(replaceOutputs.name, () => {
  it('replaces all outputs in one update', () => {
    const { doc, replica, id } = codeCellDocs();
    Y.applyUpdate(replica, appendOutput(doc, id, stdout('old')).update);
    const replaced = replaceOutputs(doc, id, [result(2)]);
    Y.applyUpdate(replica, replaced.update);
    expect(exportCell(replica, id).outputs).toEqual([result(2)]);
    expect(replaced.changes).toEqual([{ kind: 'outputs_changed', cell_id: id }]);
  });
});

describe(clearOutputs.name, () => {
  it('removes every output, and changes nothing on a cell without outputs', () => {
    const { doc, id } = codeCellDocs();
    appendOutput(doc, id, stdout('x'));
    expect(clearOutputs(doc, id).changes).toEqual([{ kind: 'outputs_changed', cell_id: id }]);
    expect(exportCell(doc, id).outputs).toEqual([]);
    expect(clearOutputs(doc, id).changes).toEqual([]);
  });
});

describe(setExecutionCount.name, () => {
  it('sets an integer count and back to null', () => {
    const { doc, replica, id } = codeCellDocs();
    const set = setExecutionCount(doc, id, 7);
    expect(set.changes).toEqual([{ kind: 'execution_changed', cell_id: id }]);
    Y.applyUpdate(replica, set.update);
    expect(exportCell(replica, id).execution_count).toBe(7);
    setExecutionCount(doc, id, null);
    expect(exportCell(doc, id).execution_count).toBeNull();
  });

  it.each([-1, 1.5])('refuses %s with UNPROCESSABLE', (count) => {
    const { doc, id } = codeCellDocs();
    expect(() => setExecutionCount(doc, id, count)).toThrow(/execution_count/);
  });
});
