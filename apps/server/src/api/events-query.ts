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

/** Parses the audit query string (`after, limit, type, actor, cell_id, since, until`) into a store query. */
export function parseEventsQuery(raw: Record<string, unknown>, notebookId: string): ReadQuery & { limit: number } {
  const limit = nonNegativeInteger('limit', raw.limit) ?? 100;
  if (limit < 1 || limit > MAX_EVENTS_PAGE) throw new DomainError('BAD_REQUEST', `limit must be between 1 and ${MAX_EVENTS_PAGE}`);
  return {
    notebookId,
    after: nonNegativeInteger('after', raw.after),
    limit,
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
