import { DomainError, type EventMetadata, type EventPayload } from '@palimpsest/contracts';
import type { AppendRequest, AppendResult } from './event-store.js';
import { chainHash } from './hash-chain.js';

/** An event encoded to the exact bytes that will be stored and hashed. */
export interface EncodedEvent {
  id: string;
  type: string;
  encoding: 'json' | 'yjs';
  data: Buffer;
  metadata: Buffer;
  /** What `data` and `metadata` parse back to, as reading the row would return them (no second parse for the live tail). */
  decoded: { payload: EventPayload; metadata: EventMetadata };
  actor: string;
  notebookId: string | null;
  cellIds: readonly string[];
  /** The Jupyter message ids it is indexed under (see `threadIdsOf`). */
  threadIds: readonly string[];
  /** True when the store generated the id (a fresh UUIDv7 no stored event can have). */
  generatedId: boolean;
}

/** An append waiting in the group-commit queue, already encoded. */
export interface PendingAppend {
  request: AppendRequest;
  events: EncodedEvent[];
}

/** A row to insert: an encoded event with its stream version and chain hash assigned. */
export interface RowToInsert {
  event: EncodedEvent;
  stream: string;
  version: number;
  recordedAt: number;
  prevHash: Buffer | null;
  hash: Buffer;
  /** Index of the append this row belongs to, to hand its position back. */
  appendIndex: number;
}

/** A row already in the log, as far as idempotency checks need it. */
export interface ExistingRow {
  position: number;
  id: string;
  stream: string;
  version: number;
  type: string;
  data: Buffer;
  metadata: Buffer;
}

/** The head of a stream: its last version and hash. */
export interface StreamHead {
  version: number;
  hash: Buffer | null;
}

/** What became of one append in a batch. */
export type AppendOutcome = { ok: true; result: AppendResult } | { ok: false; error: DomainError };

/** An append decided to succeed, waiting for the positions of its rows (its own, or its original's for an in-batch retry). */
interface PlannedAppend {
  ok: true;
  stream: string;
  version: number;
  rowIndexes: number[];
  duplicate: boolean;
}

/** The rows to insert for a batch and the outcome of every append in it, once positions are known. */
export interface BatchPlan {
  rows: RowToInsert[];
  /** Builds the outcomes from the positions the database gave the rows (same order as `rows`). */
  outcomes(positions: readonly number[]): AppendOutcome[];
}

/** Whether a stored or planned event (its stream and stored bytes) is the one a retry appends again. */
function sameContent(existing: Pick<ExistingRow, 'stream' | 'type' | 'data' | 'metadata'>, stream: string, event: EncodedEvent): boolean {
  return (
    existing.stream === stream &&
    existing.type === event.type &&
    existing.data.equals(event.data) &&
    existing.metadata.equals(event.metadata)
  );
}

/**
 * Decides a batch of appends against the current stream heads, in queue order: idempotent retries
 * resolve to their original positions, stale expected versions fail alone, and the rest are chained
 * onto their stream's head. Pure: the caller reads heads and existing ids inside its write
 * transaction and inserts the planned rows in order.
 */
export function planBatch(
  batch: readonly PendingAppend[],
  heads: Map<string, StreamHead>,
  existingById: Map<string, ExistingRow>,
  recordedAt: number,
): BatchPlan {
  const rows: RowToInsert[] = [];
  const decided: Array<AppendOutcome | PlannedAppend> = [];
  const plannedById = new Map<string, { stream: string; row: RowToInsert; rowIndex: number }>();

  batch.forEach((pending, appendIndex) => {
    const { stream, expectedVersion = 'any' } = pending.request;
    const head = heads.get(stream) ?? { version: 0, hash: null };

    // A store-generated id is new by construction: only appends with ids of their own can be retries.
    if (!pending.events.every((event) => event.generatedId)) {
      const known = pending.events.map((event) => existingById.get(event.id) ?? plannedById.get(event.id));
      if (known.some((k) => k !== undefined)) {
        decided.push(resolveRetry(pending, known));
        return;
      }
    }
    if (expectedVersion !== 'any') {
      const expected = expectedVersion === 'no_stream' ? 0 : expectedVersion;
      if (expected !== head.version) {
        decided.push({
          ok: false,
          error: new DomainError(
            'VERSION_CONFLICT',
            `stream ${stream} is at version ${head.version}, expected ${expected}`,
            { expected_version: expected, current_version: head.version },
          ),
        });
        return;
      }
    }
    let { version, hash } = head;
    const rowIndexes: number[] = [];
    for (const event of pending.events) {
      version += 1;
      const rowHash = chainHash(hash, {
        eventId: event.id,
        stream,
        version,
        type: event.type,
        encoding: event.encoding,
        data: event.data,
        metadata: event.metadata,
        recordedAt,
      });
      const row: RowToInsert = { event, stream, version, recordedAt, prevHash: hash, hash: rowHash, appendIndex };
      rowIndexes.push(rows.length);
      plannedById.set(event.id, { stream, row, rowIndex: rows.length });
      rows.push(row);
      hash = rowHash;
    }
    heads.set(stream, { version, hash });
    decided.push({ ok: true, stream, version, rowIndexes, duplicate: false });
  });

  return {
    rows,
    outcomes: (positions) =>
      decided.map((d) => {
        if (!('rowIndexes' in d)) return d;
        return {
          ok: true,
          result: { stream: d.stream, version: d.version, positions: d.rowIndexes.map((i) => positions[i]), duplicate: d.duplicate },
        };
      }),
  };

  function resolveRetry(
    pending: PendingAppend,
    known: ReadonlyArray<ExistingRow | { stream: string; row: RowToInsert; rowIndex: number } | undefined>,
  ): AppendOutcome | PlannedAppend {
    const { stream } = pending.request;
    const conflict = (): AppendOutcome => ({
      ok: false,
      error: new DomainError('IDEMPOTENCY_CONFLICT', `event ids of this append were already used with other content`, {
        event_ids: pending.events.map((e) => e.id),
      }),
    });
    if (known.some((k) => k === undefined)) return conflict();
    const planned = known.filter((k): k is { stream: string; row: RowToInsert; rowIndex: number } => !!k && 'row' in k);
    if (planned.length > 0) {
      // The original of this retry is in the same batch: share its rows once they get positions.
      if (planned.length !== known.length) return conflict();
      const same = planned.every((p, i) => p.stream === stream && sameContent({ ...p.row.event, stream: p.row.stream }, stream, pending.events[i]));
      if (!same) return conflict();
      // Same answer as a retry of a stored append: the original's positions and version, flagged duplicate.
      return {
        ok: true,
        stream,
        version: Math.max(...planned.map((p) => p.row.version)),
        rowIndexes: planned.map((p) => p.rowIndex),
        duplicate: true,
      };
    }
    const stored = known as ExistingRow[];
    if (!stored.every((row, i) => sameContent(row, stream, pending.events[i]))) return conflict();
    return {
      ok: true,
      result: { stream, version: Math.max(...stored.map((r) => r.version)), positions: stored.map((r) => r.position), duplicate: true },
    };
  }
}
