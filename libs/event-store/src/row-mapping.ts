import { describeChanges, impliedChanges, type ApiEvent, type EventMetadata, type EventPayload, type EventType, type LoggedEvent } from '@palimpsest/contracts';
import type { RowToInsert } from './batch-plan.js';
import type { ReadQuery } from './event-store.js';
import type { ChainRow } from './log-dialect.js';
import { threadIdsOf } from './message-ids.js';

/** The columns every dialect selects for a logged event. */
export const EVENT_COLUMNS = 'position, event_id, stream_id, stream_version, type, data_encoding, data, metadata, recorded_at';

/** A row of EVENT_COLUMNS as a driver returns it (PostgreSQL bigints arrive as strings). */
export interface EventRow {
  position: number | string;
  event_id: string;
  stream_id: string;
  stream_version: number | string;
  type: string;
  data_encoding: string;
  data: Buffer;
  metadata: Buffer;
  recorded_at: number | string;
}

/** Turns a stored row into a LoggedEvent, decoding the payload by its encoding. */
export function toLoggedEvent(row: EventRow): LoggedEvent {
  const payload: EventPayload =
    row.data_encoding === 'yjs'
      ? { encoding: 'yjs', bytes: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) }
      : { encoding: 'json', json: JSON.parse(row.data.toString('utf8')) as unknown };
  return {
    position: Number(row.position),
    stream: row.stream_id,
    version: Number(row.stream_version),
    id: row.event_id,
    type: row.type as EventType,
    recordedAt: Number(row.recorded_at),
    metadata: JSON.parse(row.metadata.toString('utf8')) as EventMetadata,
    payload,
  };
}

/** The events a batch inserted, exactly as reading their rows back would return them (their payloads decoded when encoded, not parsed again). */
export function insertedEvents(rows: readonly RowToInsert[], positions: readonly number[]): LoggedEvent[] {
  return rows.map((row, i) => ({
    position: positions[i],
    stream: row.stream,
    version: row.version,
    id: row.event.id,
    type: row.event.type as EventType,
    recordedAt: row.recordedAt,
    metadata: row.event.decoded.metadata,
    payload: row.event.decoded.payload,
  }));
}

/** The contract's JSON form of an event: Yjs payloads become base64 with the derived changes beside them. */
export function toApiEvent(event: LoggedEvent): ApiEvent {
  return {
    position: event.position,
    stream: event.stream,
    version: event.version,
    id: event.id,
    type: event.type,
    actor: event.metadata.actor,
    at: new Date(event.recordedAt).toISOString(),
    cell_ids: event.metadata.cell_ids,
    data: event.payload.encoding === 'yjs' ? yjsApiData(event, event.payload.bytes) : event.payload.json,
  };
}

// A Yjs event's data: the update, its changes and description, and the rest of its metadata. A keystroke's
// event stores neither changes nor description: its type and cell_ids imply both.
function yjsApiData(event: LoggedEvent, update: Uint8Array): Record<string, unknown> {
  const { actor: _actor, cell_ids, notebook_id: _notebook, changes, description, ...rest } = event.metadata;
  const shown = changes ?? impliedChanges(event.type, cell_ids) ?? [];
  return { update: Buffer.from(update).toString('base64'), changes: shown, description: description ?? describeChanges(shown), ...rest };
}

/** True when an event matches a read query's filters (the in-memory twin of the SQL WHERE clause). */
export function matchesQuery(event: LoggedEvent, query: Omit<ReadQuery, 'limit'>): boolean {
  if (query.after !== undefined && event.position <= query.after) return false;
  if (query.upTo !== undefined && event.position > query.upTo) return false;
  if (query.notebookId !== undefined && event.metadata.notebook_id !== query.notebookId) return false;
  if (query.stream !== undefined && event.stream !== query.stream) return false;
  if (query.types?.length && !query.types.includes(event.type)) return false;
  if (query.actor !== undefined && event.metadata.actor !== query.actor) return false;
  if (query.cellId !== undefined && !event.metadata.cell_ids.includes(query.cellId)) return false;
  if (query.thread !== undefined && !threadIdsOf(event.type, event.payload).includes(query.thread)) return false;
  if (query.since !== undefined && event.recordedAt < query.since) return false;
  if (query.until !== undefined && event.recordedAt > query.until) return false;
  return true;
}

/** Builds the WHERE clause of a filtered log read with `?` placeholders; dialects renumber them as needed. */
export function whereClause(query: ReadQuery): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    clauses.push(sql);
    params.push(...values);
  };
  if (query.after !== undefined) add('position > ?', query.after);
  if (query.upTo !== undefined) add('position <= ?', query.upTo);
  if (query.notebookId !== undefined) add('notebook_id = ?', query.notebookId);
  if (query.stream !== undefined) add('stream_id = ?', query.stream);
  if (query.types?.length) add(`type IN (${query.types.map(() => '?').join(', ')})`, ...query.types);
  if (query.actor !== undefined) add('actor = ?', query.actor);
  // An index subquery gets the position bounds too, so a page reads the index from where it starts (SQLite lists it first).
  const indexed = (table: string, column: string, value: string) => {
    let subquery = `SELECT position FROM ${table} WHERE ${column} = ?`;
    const values: unknown[] = [value];
    if (query.after !== undefined) {
      subquery += ' AND position > ?';
      values.push(query.after);
    }
    if (query.upTo !== undefined) {
      subquery += ' AND position <= ?';
      values.push(query.upTo);
    }
    add(`position IN (${subquery})`, ...values);
  };
  if (query.cellId !== undefined) indexed('event_cells', 'cell_id', query.cellId);
  if (query.thread !== undefined) indexed('event_msg_ids', 'msg_id', query.thread);
  if (query.since !== undefined) add('recorded_at >= ?', query.since);
  if (query.until !== undefined) add('recorded_at <= ?', query.until);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/**
 * The SELECT of chain verification: rows in (stream, version) order after a cursor. `collate` names
 * the byte-order collation of the dialect, so the cursor comparison matches the ORDER BY.
 */
export function chainRowsQuery(
  stream: string | undefined,
  after: { stream: string; version: number } | null,
  limit: number,
  collate = '',
): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (stream !== undefined) {
    clauses.push('stream_id = ?');
    params.push(stream);
  }
  if (after) {
    clauses.push(`(stream_id${collate} > ? OR (stream_id = ? AND stream_version > ?))`);
    params.push(after.stream, after.stream, after.version);
  }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  return {
    sql: `SELECT ${EVENT_COLUMNS}, actor, notebook_id, prev_hash, hash FROM events ${where} ORDER BY stream_id${collate}, stream_version LIMIT ${limit}`,
    params,
  };
}

/** A row of the chain verification SELECT: the event columns, the derived query columns and the hashes. */
export type ChainEventRow = EventRow & { actor: string; notebook_id: string | null; prev_hash: Buffer | null; hash: Buffer };

/** Maps a stored row with its hashes to a ChainRow. */
export function toChainRow(row: ChainEventRow): ChainRow {
  return {
    position: Number(row.position),
    id: row.event_id,
    stream: row.stream_id,
    version: Number(row.stream_version),
    type: row.type,
    encoding: row.data_encoding,
    data: row.data,
    metadata: row.metadata,
    recordedAt: Number(row.recorded_at),
    actor: row.actor,
    notebookId: row.notebook_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
