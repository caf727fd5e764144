import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CELL_ID_PATTERN } from './cell-id.js';
import { ACCEPTED_FIXTURES } from '../testing/fixture-doc.js';
import { describeProblems, validateNotebook } from './validate-notebook.js';

// CI runs from the clone's root; the shared fixtures sit beside the clone.
const FIXTURES = resolve(process.cwd(), '../shared/fixtures/notebooks');
const fixture = (name: string): unknown => JSON.parse(readFileSync(resolve(FIXTURES, name), 'utf8'));

const ACCEPTED = ACCEPTED_FIXTURES;
const OLD_MAJOR = [
  'nbformat/test2.ipynb',
  'nbformat/test3.ipynb',
  'nbformat/test3_no_metadata.ipynb',
  'nbformat/test3_no_min_version.ipynb',
  'nbformat/test3_no_worksheets.ipynb',
  'nbformat/test3_worksheet_with_no_cells.ipynb',
];

function accepted(name: string) {
  const result = validateNotebook(fixture(name));
  if (!result.ok) throw new Error(`${name} refused: ${describeProblems(result.problems)}`);
  return result;
}

function problemsOf(name: string) {
  const result = validateNotebook(fixture(name));
  if (result.ok) throw new Error(`${name} accepted`);
  return result.problems;
}

describe(validateNotebook.name, () => {
  it.each(ACCEPTED)('accepts %s with a valid, unique id on every cell and nbformat_minor at least 5', (name) => {
    const { notebook } = accepted(name);
    const ids = notebook.cells.map((cell) => cell.id as string);
    expect(ids.every((id) => CELL_ID_PATTERN.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(notebook.nbformat).toBe(4);
    expect(notebook.nbformat_minor).toBeGreaterThanOrEqual(5);
  });

  it.each(OLD_MAJOR)('refuses %s saying that only nbformat 4 is accepted', (name) => {
    expect(problemsOf(name)).toEqual([{ path: '/nbformat', message: expect.stringContaining('only nbformat 4 is accepted') }]);
  });

  it('generates ids for 4.4 cells and reports them, keeping everything else', () => {
    const original = fixture('ipywidgets/Output Widget.ipynb') as { cells: object[] };
    const { notebook, generatedIds, renamed } = accepted('ipywidgets/Output Widget.ipynb');
    expect(generatedIds).toHaveLength(original.cells.length);
    expect(generatedIds.map(({ index }) => index)).toEqual(original.cells.map((_, i) => i));
    expect(renamed).toEqual([]);
    notebook.cells.forEach((cell, i) => expect(cell).toEqual({ ...original.cells[i], id: generatedIds[i].id }));
  });

  it('keeps the ids of a 4.5 notebook and generates none', () => {
    const { notebook, generatedIds } = accepted('nbformat/test4.5.ipynb');
    expect(generatedIds).toEqual([]);
    expect(notebook.cells.map((cell) => cell.id)).toEqual((fixture('nbformat/test4.5.ipynb') as { cells: Array<{ id: string }> }).cells.map((c) => c.id));
  });

  it('gives the cell of a 4.5 notebook without an id a new one', () => {
    const { notebook, generatedIds } = accepted('nbformat/v4_5_no_cell_id.ipynb');
    expect(generatedIds).toEqual([{ index: 0, id: notebook.cells[0].id }]);
  });

  it('renames the second cell of a repeated id and reports the rename', () => {
    const { notebook, renamed } = accepted('nbformat/invalid_unique_cell_id.ipynb');
    expect(notebook.cells[0].id).toBe('dup');
    expect(renamed).toEqual([{ index: 1, from: 'dup', to: notebook.cells[1].id }]);
    expect(notebook.cells[1].id).not.toBe('dup');
  });

  it('accepts a future minor (4.99) and keeps its unknown fields and cell types', () => {
    const original = fixture('nbformat/test4plus.ipynb');
    const { notebook } = accepted('nbformat/test4plus.ipynb');
    expect(notebook).toEqual(original);
    expect(notebook.extra).toBe('future');
  });

  it('names each problem of invalid.ipynb by its path in the document', () => {
    const problems = problemsOf('nbformat/invalid.ipynb');
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: '/cells/0/source', message: "required property 'source' is missing" },
        { path: '/cells/2/cell_type', message: 'must be one of "raw", "markdown", "code"' },
        { path: '/cells/3/outputs/0/output_type', message: 'must be one of "execute_result", "display_data", "stream", "error"' },
      ]),
    );
    // Only the problems of each cell's own type are reported, not one per oneOf branch.
    expect(problems.some((p) => p.path === '/cells/0/outputs')).toBe(false);
  });

  it('refuses a cell id with illegal characters, naming its path', () => {
    expect(problemsOf('nbformat/invalid_cell_id.ipynb')).toEqual([{ path: '/cells/0/id', message: expect.stringContaining('must match pattern') }]);
  });

  it('refuses badly typed metadata, naming every bad field', () => {
    const paths = problemsOf('nbformat/v4_5_invalid_metadata.ipynb').map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/metadata/kernelspec',
        '/metadata/authors',
        '/cells/0/metadata/collapsed',
        '/cells/0/metadata/scrolled',
        '/cells/0/metadata/tags',
        '/cells/0/metadata/name',
        '/cells/0/metadata/jupyter',
        '/cells/0/metadata/execution',
      ]),
    );
  });

  it('refuses a notebook without nbformat_minor', () => {
    expect(problemsOf('nbformat/no_min_version.ipynb')).toEqual([{ path: '/nbformat_minor', message: "required property 'nbformat_minor' is missing" }]);
  });

  it('refuses a value that is not a JSON object', () => {
    expect(validateNotebook([1, 2])).toEqual({ ok: false, problems: [{ path: '', message: 'a notebook must be a JSON object' }] });
  });

  it('does not modify its input', () => {
    const input = fixture('ipywidgets/Output Widget.ipynb');
    const copy = structuredClone(input);
    validateNotebook(input);
    expect(input).toEqual(copy);
  });
});

describe(describeProblems.name, () => {
  it('joins problems into one line with their paths', () => {
    expect(describeProblems([{ path: '', message: 'a' }, { path: '/cells/0', message: 'b' }])).toBe('(root): a; /cells/0: b');
  });
});
