import { hash } from 'node:crypto';

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

/**
 * SHA-256 over the previous hash and every stored column, each length-prefixed (4-byte big-endian length,
 * then the bytes) so that no two different rows can produce the same input. Editing any column, or
 * removing an event from the middle of a stream, breaks the chain from that event on.
 */
export function chainHash(previous: Uint8Array | null, columns: HashedColumns): Buffer {
  // The whole input is laid out in one buffer and hashed in one call: on the append hot path this is
  // several times faster than one `update` per field, and the bytes hashed are the same.
  const strings = [columns.eventId, columns.stream, String(columns.version), columns.type, columns.encoding];
  const recordedAt = String(columns.recordedAt);
  const prev = previous ?? EMPTY;
  let size = 4 * 9 + prev.byteLength + columns.data.byteLength + columns.metadata.byteLength + Buffer.byteLength(recordedAt);
  for (const value of strings) size += Buffer.byteLength(value);
  const input = Buffer.allocUnsafe(size);
  let offset = putBytes(input, 0, prev);
  for (const value of strings) offset = putString(input, offset, value);
  offset = putBytes(input, offset, columns.data);
  offset = putBytes(input, offset, columns.metadata);
  putString(input, offset, recordedAt);
  return hash('sha256', input, 'buffer');
}

const EMPTY = new Uint8Array(0);

function putBytes(target: Buffer, offset: number, bytes: Uint8Array): number {
  target.writeUInt32BE(bytes.byteLength, offset);
  target.set(bytes, offset + 4);
  return offset + 4 + bytes.byteLength;
}

function putString(target: Buffer, offset: number, value: string): number {
  const written = target.write(value, offset + 4, 'utf8');
  target.writeUInt32BE(written, offset);
  return offset + 4 + written;
}
