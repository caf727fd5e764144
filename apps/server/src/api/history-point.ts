import { DomainError } from '@palimpsest/contracts';
import type { HistoryPoint } from '@palimpsest/notebook';

/** Parses `?at=` (and `from`/`to`): a non-negative integer version or an ISO-8601 time; undefined when absent. */
export function parseHistoryPoint(name: string, raw: unknown): HistoryPoint | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new DomainError('BAD_REQUEST', `${name} must be a version or an ISO-8601 time`);
  if (/^\d+$/.test(raw)) return { version: Number(raw) };
  const time = Date.parse(raw);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(raw)) throw new DomainError('BAD_REQUEST', `${name} must be a version or an ISO-8601 time`);
  return { time };
}
