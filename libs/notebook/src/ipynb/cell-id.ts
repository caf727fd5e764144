import { randomUUID } from 'node:crypto';

/** The nbformat 4.5 cell id rule: 1 to 64 letters, digits, `-` or `_`. */
export const CELL_ID_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;

/** True when the value is a valid nbformat 4.5 cell id. */
export function isCellId(value: unknown): value is string {
  return typeof value === 'string' && CELL_ID_PATTERN.test(value);
}

/** A fresh cell id not in `taken`: 8 hex digits of a random UUID, as nbformat's own `random_cell_id`. */
export function newCellId(taken: ReadonlySet<string> = new Set()): string {
  for (;;) {
    const id = randomUUID().replaceAll('-', '').slice(0, 8);
    if (!taken.has(id)) return id;
  }
}
