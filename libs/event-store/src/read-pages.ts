import type { LoggedEvent } from '@palimpsest/contracts';
import type { EventStore, ReadQuery } from './event-store.js';

/** Reads the global log matching a query page by page (through `after`), so a long read never holds the whole log. */
export async function* readPages(store: Pick<EventStore, 'read'>, query: Omit<ReadQuery, 'limit'>, pageSize = 1000): AsyncGenerator<LoggedEvent[]> {
  let after = query.after;
  for (;;) {
    const page = await store.read({ ...query, after, limit: pageSize });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    after = page[page.length - 1].position;
  }
}

/** Reads one stream between versions (inclusive) page by page. */
export async function* readStreamPages(
  store: Pick<EventStore, 'readStream'>,
  stream: string,
  fromVersion: number,
  toVersion: number,
  pageSize = 2000,
): AsyncGenerator<LoggedEvent[]> {
  for (let from = fromVersion; from <= toVersion; from += pageSize) {
    const page = await store.readStream(stream, from, Math.min(toVersion, from + pageSize - 1));
    if (page.length > 0) yield page;
  }
}
