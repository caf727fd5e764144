import type { MultilineString } from '@jupyterlab/nbformat';

/** Joins an nbformat multiline string (a string or a list of lines) into one string. */
export function joinMultiline(value: MultilineString): string {
  return Array.isArray(value) ? value.join('') : value;
}

/** Splits text into lines that keep their `\n`, as nbformat writes multiline strings (`""` gives `[]`). */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

const isJsonMime = (mime: string): boolean => mime === 'application/json' || mime.endsWith('+json');

/** A cell with its multiline strings joined (source, stream text, non-JSON mime data), as jupyter_server's API returns them. */
export function joinCellLines<T extends object>(cell: T): T {
  const joined = { ...cell } as Record<string, unknown>;
  if (Array.isArray(joined.source)) joined.source = joinMultiline(joined.source as string[]);
  if (Array.isArray(joined.outputs)) {
    joined.outputs = (joined.outputs as Array<Record<string, unknown>>).map((output) => {
      const copy = { ...output };
      if (Array.isArray(copy.text)) copy.text = joinMultiline(copy.text as string[]);
      if (copy.data && typeof copy.data === 'object') {
        copy.data = Object.fromEntries(
          Object.entries(copy.data as Record<string, unknown>).map(([mime, value]) => [
            mime,
            !isJsonMime(mime) && Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join('') : value,
          ]),
        );
      }
      return copy;
    });
  }
  return joined as T;
}

/** A notebook with every cell's multiline strings joined (the API form; `.ipynb` files keep lists of lines). */
export function joinNotebookLines<T extends { cells: readonly object[] }>(notebook: T): T {
  return { ...notebook, cells: notebook.cells.map(joinCellLines) };
}
