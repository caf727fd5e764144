import type { LoggedEvent } from '@palimpsest/contracts';
import type { NewEvent } from '@palimpsest/event-store';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, jsonEvent, readAll } from '../../support/events.js';
import { openTestStore, STORE_BACKENDS, type TestStore } from '../../support/test-store.js';

/** A kernel.message event as the kernel journal writes it (only the fields the thread index reads matter here). */
function kernelMessage(msgType: string, msgId: string, parentId: string | null): NewEvent {
  const direction = msgType.endsWith('_request') ? 'to_kernel' : 'from_kernel';
  return jsonEvent(
    { channel: direction === 'to_kernel' ? 'shell' : 'iopub', direction, msg_type: msgType, msg_id: msgId, parent_msg_id: parentId, content: {} },
    { type: 'kernel.message', meta: { actor: 'kernel:k1', notebook_id: 'n1' } },
  );
}

/** The migration that creates the index and backfills it. */
const MIGRATION = 'CreateMessageIdIndex1764201600000';

const msgTypes = (events: readonly LoggedEvent[]) => events.map((e) => (e.payload.encoding === 'json' ? (e.payload.json as { msg_type: string }).msg_type : null));

describe.each(STORE_BACKENDS)('the threaded view (message-id index) on %s', (backend) => {
  let t: TestStore;
  afterEach(async () => {
    await t.cleanup();
  });

  /** Two interleaved executions on kernel:k1, one on kernel:k2 that reuses the first's msg_id as parent, and unrelated events. */
  async function twoExecutions(): Promise<{ first: string; second: string }> {
    const [first, second] = [randomUUID(), randomUUID()];
    await t.store.append({ stream: 'kernel:k1', events: [kernelMessage('execute_request', first, null), kernelMessage('status', randomUUID(), first)] });
    await t.store.append({ stream: 'notebook:n1', events: [jsonEvent({ msg_id: first }, { type: 'notebook.created' })] });
    await t.store.append({
      stream: 'kernel:k1',
      events: [kernelMessage('execute_request', second, null), kernelMessage('stream', randomUUID(), first), kernelMessage('status', randomUUID(), second)],
    });
    await t.store.append({ stream: 'kernel:k2', events: [kernelMessage('stream', randomUUID(), first)] });
    await t.store.append({ stream: 'kernel:k1', events: [kernelMessage('execute_reply', randomUUID(), first), kernelMessage('execute_reply', randomUUID(), second)] });
    return { first, second };
  }

  it('reads a request and every message it caused, in order, page by page, and nothing else', async () => {
    t = await openTestStore(backend);
    const { first, second } = await twoExecutions();

    const thread = await readAll(t.store, { stream: 'kernel:k1', types: ['kernel.message'], thread: first }, 2);
    expect(msgTypes(thread)).toEqual(['execute_request', 'status', 'stream', 'execute_reply']);
    expect(thread.every((e) => e.stream === 'kernel:k1')).toBe(true);
    // Exactly what a scan of the stream finds (the index is only a faster way to the same events).
    const scanned = (await readAll(t.store, { stream: 'kernel:k1' })).filter((e) => {
      const data = e.payload.encoding === 'json' ? (e.payload.json as { msg_id: string; parent_msg_id: string | null }) : null;
      return data?.msg_id === first || data?.parent_msg_id === first;
    });
    expect(thread.map((e) => e.position)).toEqual(scanned.map((e) => e.position));
    expect(msgTypes(await t.store.read({ thread: second }))).toEqual(['execute_request', 'status', 'execute_reply']);
    // Without a stream filter the other kernel's message with the same parent is found too; other events never are.
    expect(await t.store.read({ thread: first })).toHaveLength(5);
    expect(await t.store.count({ thread: first, stream: 'kernel:k1' })).toBe(4);
    expect(await t.store.read({ thread: randomUUID() })).toEqual([]);
  });

  it('delivers the same thread to a subscription, stored and live (the in-memory filter matches the index)', async () => {
    t = await openTestStore(backend);
    const { first } = await twoExecutions();
    const received: LoggedEvent[] = [];
    const done = deferred();
    const subscription = t.store.subscribe(
      { stream: 'kernel:k1', thread: first },
      {
        onEvents: (events) => {
          received.push(...events);
          if (received.length === 6) done.resolve();
        },
      },
    );
    await subscription.live;
    await t.store.append({ stream: 'kernel:k1', events: [kernelMessage('status', randomUUID(), randomUUID()), kernelMessage('stream', randomUUID(), first)] });
    await t.store.append({ stream: 'kernel:k1', events: [kernelMessage('status', randomUUID(), first)] });
    await done.promise;
    subscription.close();

    expect(msgTypes(received)).toEqual(['execute_request', 'status', 'stream', 'execute_reply', 'stream', 'status']);
    expect(received.map((e) => e.position)).toEqual((await t.store.read({ stream: 'kernel:k1', thread: first })).map((e) => e.position));
  });

  it('indexes, when it migrates an older log, the kernel messages logged before the index existed', async () => {
    t = await openTestStore(backend);
    const request = randomUUID();
    const selfParented = randomUUID();
    const appended = await t.store.append({
      stream: 'kernel:k1',
      events: [
        kernelMessage('execute_request', request, null),
        kernelMessage('stream', randomUUID(), request),
        kernelMessage('comm_msg', selfParented, selfParented),
        jsonEvent({ msg_id: request, parent_msg_id: request }, { type: 'kernel.lifecycle', meta: { actor: 'kernel:k1', notebook_id: 'n1' } }),
      ],
    });
    await t.store.close();
    // The log as the server before this index left it: same events table, no index, its migration not yet run.
    await t.rawSql(`DROP TABLE event_msg_ids; DELETE FROM schema_migrations WHERE name = '${MIGRATION}'`);
    expect(await t.rawQuery(`SELECT name FROM schema_migrations WHERE name = '${MIGRATION}'`)).toEqual([]);

    const store = await t.reopen();
    expect(await t.rawQuery(`SELECT name FROM schema_migrations WHERE name = '${MIGRATION}'`)).toEqual([{ name: MIGRATION }]);
    expect(msgTypes(await store.read({ thread: request }))).toEqual(['execute_request', 'stream']);
    expect((await store.read({ thread: selfParented })).map((e) => e.position)).toEqual([appended.positions[2]]);
    // Messages appended after the migration are indexed by the store itself, beside the backfilled ones.
    await store.append({ stream: 'kernel:k1', events: [kernelMessage('execute_reply', randomUUID(), request)] });
    expect(msgTypes(await store.read({ thread: request }))).toEqual(['execute_request', 'stream', 'execute_reply']);
    expect((await store.verify()).ok).toBe(true);
  });

  it('refuses raw UPDATE and DELETE of the index', async () => {
    t = await openTestStore(backend);
    const { first } = await twoExecutions();
    await expect(t.rawSql(`UPDATE event_msg_ids SET msg_id = 'other'`)).rejects.toThrow('event_msg_ids is append-only');
    await expect(t.rawSql(`DELETE FROM event_msg_ids`)).rejects.toThrow('event_msg_ids is append-only');
    if (backend === 'postgres') await expect(t.rawSql('TRUNCATE event_msg_ids')).rejects.toThrow('event_msg_ids is append-only');
    expect(await t.store.read({ stream: 'kernel:k1', thread: first })).toHaveLength(4);
  });
});
