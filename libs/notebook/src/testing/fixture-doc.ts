import type { INotebookContent } from '@jupyterlab/nbformat';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as Y from 'yjs';
import { loadNotebook } from '../commands/notebook-commands.js';
import { describeProblems, validateNotebook } from '../ipynb/validate-notebook.js';
import { cellsOf, metaOf } from '../model/notebook-doc.js';

/** Test helper: the validated notebook of a shared fixture (CI runs from the clone root; fixtures sit beside it). */
export function fixtureNotebook(name: string): INotebookContent {
  const result = validateNotebook(JSON.parse(readFileSync(resolve(process.cwd(), '../shared/fixtures/notebooks', name), 'utf8')));
  if (!result.ok) throw new Error(describeProblems(result.problems));
  return result.notebook;
}

/** Test helper: a document loaded with a fixture, and a replica synced to it. */
export function fixtureDocs(name = 'nbformat/test4.5.ipynb'): { doc: Y.Doc; replica: Y.Doc } {
  const doc = new Y.Doc();
  loadNotebook(doc, fixtureNotebook(name));
  const replica = new Y.Doc();
  // Typing the roots first keeps the (empty) transaction Yjs makes when it does so out of the tests.
  cellsOf(replica);
  metaOf(replica);
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc));
  return { doc, replica };
}

const joined = (value: unknown): unknown => (Array.isArray(value) ? value.join('') : value);

/** Test helper: an output with stream text as one string (nbformat allows a string or a list of lines). */
export function normalizedOutput(output: Record<string, unknown>): Record<string, unknown> {
  return output.output_type === 'stream' ? { ...output, text: joined(output.text) } : output;
}

/** Test helper: a notebook with every multiline string (source, stream text) as one string. */
export function normalized(notebook: INotebookContent): unknown {
  return {
    ...notebook,
    cells: notebook.cells.map((cell) => ({
      ...cell,
      ...('source' in cell ? { source: joined(cell.source) } : {}),
      ...(Array.isArray(cell.outputs) ? { outputs: (cell.outputs as Array<Record<string, unknown>>).map(normalizedOutput) } : {}),
    })),
  };
}

/** Every fixture notebook that import must accept (the shared fixtures README's 201 rows). */
export const ACCEPTED_FIXTURES = [
  'ipywidgets/Output Widget.ipynb',
  'ipywidgets/Widget List.ipynb',
  'nbformat/test4.ipynb',
  'nbformat/test4docinfo.ipynb',
  'nbformat/test4jupyter_metadata.ipynb',
  'nbformat/test4custom.ipynb',
  'nbformat/test4jupyter_metadata_timings.ipynb',
  'nbformat/many_tracebacks.ipynb',
  'nbformat/test4.5.ipynb',
  'nbformat/test4plus.ipynb',
  'nbformat/v4_5_no_cell_id.ipynb',
  'nbformat/invalid_unique_cell_id.ipynb',
];
