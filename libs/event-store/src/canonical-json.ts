/** Deepest nesting accepted (a cycle, or data nobody should log, fails with a clear error instead of a stack overflow). */
const MAX_DEPTH = 512;

/** A value's canonical JSON text, and the value that text parses back to. */
export interface CanonicalForm {
  text: string;
  /**
   * Exactly what `JSON.parse(text)` returns, keys in the same order: a fresh copy sharing nothing with
   * the input, so a store can hand it out as the decoded form of what it wrote without parsing it again.
   */
  value: unknown;
}

/**
 * RFC 8785 (JCS) canonical JSON of a JSON value: object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings exactly as ECMAScript's JSON.stringify writes them, `toJSON`
 * honoured. Byte-identical to the `canonicalize` package (checked in canonical-json.spec.ts) for
 * every value it accepts, and it keeps strings with lone surrogates (a kernel may print them), which
 * JSON.stringify escapes as `\udXXX`, instead of refusing the whole event. Non-finite numbers are
 * refused: JSON has none. The usual path copies the value with its keys in sorted order and lets the
 * native JSON.stringify write it (a kernel stream message: 8.7 against 14.6 µs for writing it in
 * JavaScript); an object with a key that starts with a digit is written in JavaScript, because
 * JavaScript enumerates array-index keys first whatever order they were inserted in.
 */
export function canonicalJson(value: unknown): string {
  return canonicalForm(value).text;
}

/** `canonicalJson`, with the parsed-back value beside the text (the sorted copy itself, when it could be made). */
export function canonicalForm(value: unknown): CanonicalForm {
  const sorted = sortedCopy(value, 0);
  if (sorted !== UNORDERABLE) return { text: JSON.stringify(sorted), value: sorted };
  const text = write(value, 0);
  return { text, value: JSON.parse(text) as unknown };
}

/** What `sortedCopy` returns for a value holding an object whose keys no copy can keep in sorted order. */
const UNORDERABLE = Symbol('unorderable');

function checkedScalar(value: unknown): unknown {
  if (typeof value !== 'number') return value;
  if (!Number.isFinite(value)) throw new Error(`${value} is not a JSON number`);
  // JSON has no negative zero: -0 is written `0`, and the copy must hold what parsing that gives.
  return value === 0 ? 0 : value;
}

/** True for what JSON.stringify leaves out of an object (and writes as null in an array). */
function unwritable(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

function sortedCopy(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return checkedScalar(value);
  if (depth > MAX_DEPTH) throw new Error(`JSON nested deeper than ${MAX_DEPTH} levels (or circular)`);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sortedCopy((value as { toJSON(): unknown }).toJSON(), depth + 1);
  if (Array.isArray(value)) {
    const items: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = sortedCopy(value[i], depth + 1);
      if (item === UNORDERABLE) return UNORDERABLE;
      items[i] = unwritable(item) ? null : item;
    }
    return items;
  }
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    const first = key.charCodeAt(0);
    if (first >= 0x30 && first <= 0x39) return UNORDERABLE;
    const item = sortedCopy(record[key], depth + 1);
    if (item === UNORDERABLE) return UNORDERABLE;
    if (unwritable(item)) continue;
    // A `__proto__` key is a member, as JSON.parse made it; assigning it would set the copy's prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    else copy[key] = item;
  }
  return copy;
}

function write(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(checkedScalar(value));
  if (depth > MAX_DEPTH) throw new Error(`JSON nested deeper than ${MAX_DEPTH} levels (or circular)`);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return write((value as { toJSON(): unknown }).toJSON(), depth + 1);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) out += ',';
      out += unwritable(item) ? 'null' : write(item, depth + 1);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (unwritable(item)) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${write(item, depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}
