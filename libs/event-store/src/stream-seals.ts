import { createHmac, timingSafeEqual } from 'node:crypto';
import type { StreamSeal } from './event-store.js';
import type { LogDialect } from './log-dialect.js';

/** Derives the seal-signing key from the server secret, so seals never share a key with tokens. */
export function deriveSealKey(secret: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update('palimpsest stream seals v1').digest();
}

/** HMAC-SHA256 over every field of a seal but the signature, in a fixed, unambiguous layout. */
export function sealSignature(key: Uint8Array, seal: Omit<StreamSeal, 'signature'>): Buffer {
  const text = ['palimpsest-seal-v1', seal.stream, seal.version, seal.position, seal.headHash.toString('hex'), seal.sealedAt].join('\n');
  return createHmac('sha256', key).update(text).digest();
}

/** True when the seal's signature is the one `key` makes. */
export function sealIsAuthentic(key: Uint8Array, seal: StreamSeal): boolean {
  const expected = sealSignature(key, seal);
  return expected.length === seal.signature.length && timingSafeEqual(expected, seal.signature);
}

interface SealRow {
  stream_id: string;
  version: number | string;
  position: number | string;
  head_hash: Buffer;
  signature: Buffer;
  sealed_at: number | string;
}

const SEAL_COLUMNS = 's.stream_id, s.version, s.position, s.head_hash, s.signature, s.sealed_at';

function toSeal(row: SealRow): StreamSeal {
  return {
    stream: row.stream_id,
    version: Number(row.version),
    position: Number(row.position),
    headHash: row.head_hash,
    signature: row.signature,
    sealedAt: Number(row.sealed_at),
  };
}

/** The head of a stream as the sealer reads it. */
export interface StreamHeadRow {
  stream: string;
  version: number;
  position: number;
  hash: Buffer;
}

/** The `stream_seals` table (insert-only, like the log) and the head queries of the sealer, on either engine. */
export class SealTable {
  constructor(private readonly db: Pick<LogDialect, 'run'>) {}

  /** The newest seal of each stream (or of one stream). */
  async latest(stream?: string): Promise<Map<string, StreamSeal>> {
    const where = stream === undefined ? '' : 'WHERE s.stream_id = ?';
    const rows = await this.db.run<SealRow>(
      `SELECT ${SEAL_COLUMNS} FROM stream_seals s
       JOIN (SELECT stream_id, MAX(version) AS v FROM stream_seals GROUP BY stream_id) m ON s.stream_id = m.stream_id AND s.version = m.v ${where}`,
      stream === undefined ? [] : [stream],
    );
    return new Map(rows.map((row) => [row.stream_id, toSeal(row)]));
  }

  /** The oldest seal of a stream beyond a version: the earliest sealed event that a truncation removed. */
  async firstAfter(stream: string, version: number): Promise<StreamSeal | null> {
    const [row] = await this.db.run<SealRow>(
      `SELECT ${SEAL_COLUMNS} FROM stream_seals s WHERE s.stream_id = ? AND s.version > ? ORDER BY s.version LIMIT 1`,
      [stream, version],
    );
    return row ? toSeal(row) : null;
  }

  /** The head (last event) of every stream with an event in (after, upTo]. */
  async headsChangedAfter(after: number, upTo: number): Promise<StreamHeadRow[]> {
    const rows = await this.db.run<{ stream_id: string; stream_version: number | string; position: number | string; hash: Buffer }>(
      `SELECT e.stream_id, e.stream_version, e.position, e.hash FROM events e
       JOIN (SELECT stream_id, MAX(stream_version) AS v FROM events WHERE position > ? AND position <= ? GROUP BY stream_id) h
         ON e.stream_id = h.stream_id AND e.stream_version = h.v`,
      [after, upTo],
    );
    return rows.map((r) => ({ stream: r.stream_id, version: Number(r.stream_version), position: Number(r.position), hash: r.hash }));
  }

  /** Stores seals; a seal another node already stored for the same (stream, version) is kept. */
  async insert(seals: readonly StreamSeal[]): Promise<void> {
    for (const seal of seals) {
      await this.db.run(
        'INSERT INTO stream_seals (stream_id, version, position, head_hash, signature, sealed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [seal.stream, seal.version, seal.position, seal.headHash, seal.signature, seal.sealedAt],
      );
    }
  }
}
