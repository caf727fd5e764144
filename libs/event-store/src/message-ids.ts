import type { EventPayload } from '@palimpsest/contracts';

/**
 * The Jupyter message ids an event is indexed under for the threaded view (`ReadQuery.thread`): a
 * `kernel.message`'s own msg_id and its parent's, when they are strings. Other events have none.
 */
export function threadIdsOf(type: string, payload: EventPayload): string[] {
  if (type !== 'kernel.message' || payload.encoding !== 'json' || typeof payload.json !== 'object' || payload.json === null) return [];
  const { msg_id: own, parent_msg_id: parent } = payload.json as { msg_id?: unknown; parent_msg_id?: unknown };
  const ids: string[] = [];
  if (typeof own === 'string') ids.push(own);
  if (typeof parent === 'string' && parent !== own) ids.push(parent);
  return ids;
}
