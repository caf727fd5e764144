import canonicalize from 'canonicalize';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../../test/support/seeded-random.js';
import { canonicalForm, canonicalJson } from './canonical-json.js';

// CI runs from the clone's root; the shared fixtures sit beside the clone.
const FIXTURES = resolve(process.cwd(), '../shared/fixtures/notebooks');

function notebookFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? notebookFiles(path) : name.endsWith('.ipynb') ? [path] : [];
  });
}

/** A random JSON value: nested objects and arrays, unicode (astral included) strings and keys, awkward numbers. */
function randomJson(random: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const text = () => Array.from({ length: Math.floor(random() * 8) }, () => pick(['a', 'Z', 'é', '€', '😀', '\n', '"', '\\', '\u0001', '\u2028', ' ', '1'])).join('');
  const kind = depth > 4 ? Math.floor(random() * 4) : Math.floor(random() * 6);
  switch (kind) {
    case 0:
      return pick([0, -0, 1, -1, 0.1 + 0.2, 1e21, 1e-7, 123456789.123, Number.MAX_SAFE_INTEGER, 5e-324, random() * 1e6]);
    case 1:
      return text();
    case 2:
      return pick([true, false, null]);
    case 3:
      return random() < 0.5 ? undefined : text();
    case 4:
      return Array.from({ length: Math.floor(random() * 5) }, () => randomJson(random, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 6) }, () => [text(), randomJson(random, depth + 1)]));
  }
}

describe('canonicalJson (RFC 8785)', () => {
  it('writes exactly what the canonicalize package writes for every fixture notebook', () => {
    const files = notebookFiles(FIXTURES);
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const notebook: unknown = JSON.parse(readFileSync(file, 'utf8'));
      expect(canonicalJson(notebook), file).toBe(canonicalize(notebook));
    }
  });

  it('writes exactly what the canonicalize package writes for 2,000 random JSON values', () => {
    const random = seeded(8785);
    for (let i = 0; i < 2000; i++) {
      const value = { root: randomJson(random) };
      expect(canonicalJson(value)).toBe(canonicalize(value));
    }
  });

  it('gives beside the text exactly the value parsing the text returns, key order included, sharing nothing with the input', () => {
    const random = seeded(7159);
    const awkward = { z: -0, a: [undefined, () => 1, -0], b: undefined, when: new Date(0), n: { 10: 'ten', a: [{ '2': 1 }] } };
    for (const value of [awkward, ...Array.from({ length: 2000 }, () => ({ root: randomJson(random) }))]) {
      const { text, value: parsedBack } = canonicalForm(value);
      const parsed: unknown = JSON.parse(text);
      expect(parsedBack).toStrictEqual(parsed);
      // Same key order too (an array-index key comes first in both, whatever order the text has it in).
      expect(JSON.stringify(parsedBack)).toBe(JSON.stringify(parsed));
    }
    const input = { outer: { inner: [1] } };
    const { value } = canonicalForm(input) as { value: typeof input };
    expect(value.outer).not.toBe(input.outer);
    expect(value.outer.inner).not.toBe(input.outer.inner);
  });

  it('sorts keys by UTF-16 code units, drops undefined members, honours toJSON', () => {
    expect(canonicalJson({ b: 1, a: [undefined, 2], '€': 3, '😀': 4, 'ﬁ': 5, c: undefined })).toBe('{"a":[null,2],"b":1,"€":3,"😀":4,"ﬁ":5}');
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('orders array-index keys as strings and keeps a __proto__ member, as the canonicalize package does', () => {
    const indexed = { b: { 10: 'ten', 9: 'nine', a: 0 }, a: [{ '2': 1, '1x': 2 }] };
    expect(canonicalJson(indexed)).toBe('{"a":[{"1x":2,"2":1}],"b":{"10":"ten","9":"nine","a":0}}');
    expect(canonicalJson(indexed)).toBe(canonicalize(indexed));
    const parsed: unknown = JSON.parse('{"z":1,"__proto__":{"x":1},"a":2}');
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"x":1},"a":2,"z":1}');
    expect(canonicalJson(parsed)).toBe(canonicalize(parsed));
  });

  it('keeps a lone surrogate (escaped, so it parses back) and refuses non-finite numbers and cycles', () => {
    const text = 'half \ud83d of an emoji';
    expect(JSON.parse(canonicalJson({ text })) as unknown).toEqual({ text });
    expect(() => canonicalJson({ n: Number.NaN })).toThrow('NaN is not a JSON number');
    expect(() => canonicalJson([Infinity])).toThrow('Infinity is not a JSON number');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(/circular/);
  });
});
