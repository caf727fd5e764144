import { createHash } from 'node:crypto';

/** The stored columns of an event that its chain hash covers, exactly as stored. */
export interface HashedColumns {
  eventId: string;
  stream: string;
  version: number;
  type: string;
  encoding: string;
  data: Uint8Array;
  metadata: Uint8Array;
  recordedAt: number;
}

function lengthPrefixed(hash: ReturnType<typeof createHash>, bytes: Uint8Array | string): void {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(buffer.length);
  hash.update(length).update(buffer);
}

/**
 * SHA-256 over the previous hash and every stored column, each length-prefixed so that no two
 * different rows can produce the same input. Editing any column, or removing an event from the
 * middle of a stream, breaks the chain from that event on.
 */
export function chainHash(previous: Uint8Array | null, columns: HashedColumns): Buffer {
  const hash = createHash('sha256');
  lengthPrefixed(hash, previous ?? new Uint8Array(0));
  lengthPrefixed(hash, columns.eventId);
  lengthPrefixed(hash, columns.stream);
  lengthPrefixed(hash, String(columns.version));
  lengthPrefixed(hash, columns.type);
  lengthPrefixed(hash, columns.encoding);
  lengthPrefixed(hash, columns.data);
  lengthPrefixed(hash, columns.metadata);
  lengthPrefixed(hash, String(columns.recordedAt));
  return hash.digest();
}
