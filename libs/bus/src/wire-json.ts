/** Marks a byte array inside JSON sent between nodes. */
const BYTES = '$bytes';

/** JSON.stringify that keeps Uint8Array values (as base64 under a `$bytes` key). */
export function encodeWireJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? { [BYTES]: Buffer.from(v).toString('base64') } : v));
}

/** JSON.parse that restores the Uint8Array values written by encodeWireJson. */
export function decodeWireJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const bytes = (v as Record<string, unknown>)[BYTES];
      if (typeof bytes === 'string' && Object.keys(v).length === 1) return new Uint8Array(Buffer.from(bytes, 'base64'));
    }
    return v;
  });
}
