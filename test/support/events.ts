import type { EventMetadata, EventType, LoggedEvent } from '@palimpsest/contracts';
import type { EventStore, NewEvent, ReadQuery } from '@palimpsest/event-store';

/** Metadata of a test event; override any field. */
export function testMeta(overrides: Partial<EventMetadata> = {}): EventMetadata {
  return { actor: 'alice', cell_ids: [], notebook_id: 'nb1', ...overrides };
}

/** A small JSON event (`notebook.created` unless another JSON type is given). */
export function jsonEvent(
  json: Record<string, unknown>,
  options: { id?: string; type?: EventType; meta?: Partial<EventMetadata> } = {},
): NewEvent {
  return {
    id: options.id,
    type: options.type ?? 'notebook.created',
    payload: { encoding: 'json', json },
    metadata: testMeta(options.meta),
  };
}

/** A binary Yjs event carrying the given update bytes. */
export function yjsEvent(bytes: Uint8Array, options: { id?: string; type?: EventType; meta?: Partial<EventMetadata> } = {}): NewEvent {
  return {
    id: options.id,
    type: options.type ?? 'notebook.doc.updated',
    payload: { encoding: 'yjs', bytes },
    metadata: testMeta(options.meta),
  };
}

/** Reads every event matching the query, page by page through `after`. */
export async function readAll(store: EventStore, query: Omit<ReadQuery, 'after' | 'limit'> = {}, pageSize = 1000): Promise<LoggedEvent[]> {
  const all: LoggedEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await store.read({ ...query, after, limit: pageSize });
    all.push(...page);
    if (page.length < pageSize) return all;
    after = page[page.length - 1].position;
  }
}

/** A promise with its resolve function, for waiting on an event instead of a delay. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; reject(error: Error): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
