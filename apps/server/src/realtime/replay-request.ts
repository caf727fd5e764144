import { DomainError, notebookStream } from '@palimpsest/contracts';
import type { EventStore, ReadQuery } from '@palimpsest/event-store';
import type { ReplaySpeed } from './replay-session.js';

/** A parsed `start` payload of the `/replay` namespace. */
export interface ReplayRequest {
  notebookId: string;
  from?: number | string;
  to?: number | string;
  speed: ReplaySpeed;
}

/** A history point of a replay payload: a version (integer) or an ISO-8601 time. */
type PointValue = number | string | undefined;

function point(name: string, raw: unknown): PointValue {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
  if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(Date.parse(raw))) return raw;
  throw new DomainError('BAD_REQUEST', `${name} must be a version (integer) or an ISO-8601 time`);
}

/** Parses `start {notebook_id, from?, to?, speed}`: speed a positive number or 'max'. */
export function parseReplayStart(body: unknown): ReplayRequest {
  if (typeof body !== 'object' || body === null) throw new DomainError('BAD_REQUEST', 'start needs an object payload');
  const raw = body as Record<string, unknown>;
  if (typeof raw.notebook_id !== 'string' || raw.notebook_id === '') throw new DomainError('BAD_REQUEST', 'notebook_id must be a string');
  const speed = raw.speed ?? 1;
  if (speed !== 'max' && !(typeof speed === 'number' && Number.isFinite(speed) && speed > 0)) {
    throw new DomainError('BAD_REQUEST', "speed must be a positive number or 'max'");
  }
  return { notebookId: raw.notebook_id, from: point('from', raw.from), to: point('to', raw.to), speed };
}

/** Parses `seek {position}` or `seek {version}`. */
export function parseSeek(body: unknown): { position: number } | { version: number } {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  for (const key of ['position', 'version'] as const) {
    const value = raw[key];
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return key === 'position' ? { position: value } : { version: value };
  }
  throw new DomainError('BAD_REQUEST', 'seek needs a non-negative integer position or version');
}

/** The global position of a notebook version (0 for version 0); 422 past the notebook's end. */
export async function positionOfVersion(store: Pick<EventStore, 'readStream'>, notebookId: string, version: number): Promise<number> {
  if (version === 0) return 0;
  const [event] = await store.readStream(notebookStream(notebookId), version, version);
  if (!event) throw new DomainError('UNPROCESSABLE', `notebook ${notebookId} has no version ${version}`);
  return event.position;
}

/**
 * The log range a replay plays: the notebook's events and its kernels', after `from` (a version:
 * the events after it; a time: those recorded from then on) up to `to` (a version: up to and
 * including it; a time: recorded up to then), by default up to the log's head when the replay starts.
 */
export async function replayRange(store: Pick<EventStore, 'readStream' | 'headPosition'>, request: ReplayRequest): Promise<Omit<ReadQuery, 'limit' | 'after'> & { after: number }> {
  const { notebookId, from, to } = request;
  const query: Omit<ReadQuery, 'limit' | 'after'> & { after: number } = { notebookId, after: 0 };
  if (typeof from === 'number') query.after = await positionOfVersion(store, notebookId, from);
  if (typeof from === 'string') query.since = Date.parse(from);
  if (typeof to === 'number') query.upTo = await positionOfVersion(store, notebookId, to);
  else query.upTo = await store.headPosition();
  if (typeof to === 'string') query.until = Date.parse(to);
  return query;
}
