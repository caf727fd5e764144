import { DomainError } from '@palimpsest/contracts';
import type { ReadQuery } from '@palimpsest/event-store';

/** Largest page of events one request may ask for. */
export const MAX_EVENTS_PAGE = 1000;

function nonNegativeInteger(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new DomainError('BAD_REQUEST', `${name} must be a non-negative integer`);
  return value;
}

function isoTime(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const time = typeof raw === 'string' ? Date.parse(raw) : NaN;
  if (Number.isNaN(time)) throw new DomainError('BAD_REQUEST', `${name} must be an ISO-8601 time`);
  return time;
}

function stringList(name: string, raw: unknown): string[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const values: unknown[] = (Array.isArray(raw) ? (raw as unknown[]) : [raw]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]));
  if (!values.every((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128)) {
    throw new DomainError('BAD_REQUEST', `${name} must be a list of names`);
  }
  return values;
}

function optionalString(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || raw.length > 256) throw new DomainError('BAD_REQUEST', `${name} must be a string`);
  return raw;
}

/** Parses the cursor of a paged query: `after` (a log position) and `limit` (1 to `max`, `defaultLimit` when absent). */
export function parsePage(raw: Record<string, unknown>, defaultLimit: number, max: number): { after?: number; limit: number } {
  const limit = nonNegativeInteger('limit', raw.limit) ?? defaultLimit;
  if (limit < 1 || limit > max) throw new DomainError('BAD_REQUEST', `limit must be between 1 and ${max}`);
  return { after: nonNegativeInteger('after', raw.after), limit };
}

/** Parses the audit query string (`after, limit, type, actor, cell_id, since, until`) into a store query. */
export function parseEventsQuery(raw: Record<string, unknown>, notebookId: string): ReadQuery & { limit: number } {
  return {
    notebookId,
    ...parsePage(raw, 100, MAX_EVENTS_PAGE),
    types: stringList('type', raw.type),
    actor: optionalString('actor', raw.actor),
    cellId: optionalString('cell_id', raw.cell_id),
    since: isoTime('since', raw.since),
    until: isoTime('until', raw.until),
  };
}

/** Parses a Socket.IO `subscribe` payload of the `/events` namespace. */
export function parseSubscribe(body: unknown): { notebookId: string; after?: number; types?: string[] } {
  if (typeof body !== 'object' || body === null) throw new DomainError('BAD_REQUEST', 'subscribe needs an object payload');
  const { notebook_id: notebookId, after, types } = body as Record<string, unknown>;
  if (typeof notebookId !== 'string' || notebookId.length === 0) throw new DomainError('BAD_REQUEST', 'notebook_id must be a string');
  if (types !== undefined && !Array.isArray(types)) throw new DomainError('BAD_REQUEST', 'types must be an array of event types');
  return { notebookId, after: nonNegativeInteger('after', after), types: stringList('types', types) };
}
