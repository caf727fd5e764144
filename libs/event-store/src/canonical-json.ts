/** Deepest nesting accepted (a cycle, or data nobody should log, fails with a clear error instead of a stack overflow). */
const MAX_DEPTH = 512;

/**
 * RFC 8785 (JCS) canonical JSON of a JSON value: object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings exactly as ECMAScript's JSON.stringify writes them, `toJSON`
 * honoured. Byte-identical to the `canonicalize` package (checked in canonical-json.spec.ts) for
 * every value it accepts, 1.5x as fast on a kernel stream message (the append hot path; measured
 * 6.8 against 10.6 µs), and it keeps strings with lone
 * surrogates (a kernel may print them), which JSON.stringify escapes as `\udXXX`, instead of
 * refusing the whole event. Non-finite numbers are refused: JSON has none.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(value: unknown, depth: number): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`${value} is not a JSON number`);
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (depth > MAX_DEPTH) throw new Error(`JSON nested deeper than ${MAX_DEPTH} levels (or circular)`);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return write((value as { toJSON(): unknown }).toJSON(), depth + 1);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (i > 0) out += ',';
      out += item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : write(item, depth + 1);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${write(item, depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}
