import { describe, expect, it } from 'vitest';
import { decodeWireJson, encodeWireJson } from './wire-json.js';

describe(encodeWireJson.name, () => {
  it('round-trips byte arrays nested in JSON', () => {
    const value = { a: 1, update: Uint8Array.of(0, 255, 7), list: [Uint8Array.of(1)], text: 'x' };
    expect(decodeWireJson(encodeWireJson(value))).toEqual(value);
  });

  it('leaves an object that merely has a $bytes key beside others alone', () => {
    expect(decodeWireJson(encodeWireJson({ $bytes: 'AA==', other: 1 }))).toEqual({ $bytes: 'AA==', other: 1 });
  });
});
