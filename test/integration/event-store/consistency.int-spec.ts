import { DomainError } from '@palimpsest/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { jsonEvent, readAll } from '../../support/events.js';
import { openTestStore, STORE_BACKENDS, type TestStore } from '../../support/test-store.js';

describe.each(STORE_BACKENDS)('TypeOrmEventStore consistency on %s', (backend) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(backend);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  describe('optimistic concurrency', () => {
    it('rejects a stale expected version with VERSION_CONFLICT and appends nothing', async () => {
      await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }), jsonEvent({ n: 2 })] });
      const head = await t.store.headPosition();

      const stale = t.store.append({ stream: 'notebook:a', expectedVersion: 1, events: [jsonEvent({ n: 3 }), jsonEvent({ n: 4 })] });

      await expect(stale).rejects.toBeInstanceOf(DomainError);
      await expect(stale).rejects.toMatchObject({ code: 'VERSION_CONFLICT', details: { expected_version: 1, current_version: 2 } });
      expect(await t.store.streamVersion('notebook:a')).toBe(2);
      expect(await t.store.headPosition()).toBe(head);
    });

    it('accepts the exact current version and advances the stream by the number of events', async () => {
      await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 })] });

      const result = await t.store.append({ stream: 'notebook:a', expectedVersion: 1, events: [jsonEvent({ n: 2 }), jsonEvent({ n: 3 })] });

      expect(result).toMatchObject({ stream: 'notebook:a', version: 3, duplicate: false });
      expect(result.positions).toHaveLength(2);
    });

    it("appends to a new stream with 'no_stream' and rejects 'no_stream' once the stream exists", async () => {
      const first = await t.store.append({ stream: 'notebook:new', expectedVersion: 'no_stream', events: [jsonEvent({ n: 1 })] });
      expect(first.version).toBe(1);

      await expect(
        t.store.append({ stream: 'notebook:new', expectedVersion: 'no_stream', events: [jsonEvent({ n: 2 })] }),
      ).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
      expect(await t.store.streamVersion('notebook:new')).toBe(1);
    });

    it('rejects an expected version ahead of the stream', async () => {
      await expect(
        t.store.append({ stream: 'notebook:empty', expectedVersion: 3, events: [jsonEvent({ n: 1 })] }),
      ).rejects.toMatchObject({ code: 'VERSION_CONFLICT', details: { expected_version: 3, current_version: 0 } });
      expect(await t.store.headPosition()).toBe(0);
    });

    it('lets exactly one of several concurrent writers with the same expected version win', async () => {
      await t.store.append({ stream: 'notebook:race', events: [jsonEvent({ n: 0 })] });

      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => t.store.append({ stream: 'notebook:race', expectedVersion: 1, events: [jsonEvent({ writer: i })] })),
      );

      const won = attempts.filter((a) => a.status === 'fulfilled');
      const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const loss of lost) expect(loss.reason).toMatchObject({ code: 'VERSION_CONFLICT' });
      expect(await t.store.streamVersion('notebook:race')).toBe(2);
    });

    it('fails a stale append alone without failing the other appends committed in the same batch', async () => {
      await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 })] });

      // Issued in the same tick, so the group commit puts all three in one transaction.
      const [ok1, stale, ok2] = await Promise.allSettled([
        t.store.append({ stream: 'notebook:b', events: [jsonEvent({ n: 1 })] }),
        t.store.append({ stream: 'notebook:a', expectedVersion: 0, events: [jsonEvent({ n: 2 })] }),
        t.store.append({ stream: 'notebook:a', expectedVersion: 1, events: [jsonEvent({ n: 3 })] }),
      ]);

      expect(ok1.status).toBe('fulfilled');
      expect(stale).toMatchObject({ status: 'rejected', reason: { code: 'VERSION_CONFLICT' } });
      expect(ok2).toMatchObject({ status: 'fulfilled', value: { version: 2 } });
      expect((await t.store.readStream('notebook:a')).map((e) => e.payload)).toEqual([
        { encoding: 'json', json: { n: 1 } },
        { encoding: 'json', json: { n: 3 } },
      ]);
    });
  });

  describe('idempotency', () => {
    it('returns the original positions with duplicate:true for a retry with the same ids and content, appending nothing', async () => {
      const ids = [uuidv7(), uuidv7()];
      const events = [jsonEvent({ n: 1 }, { id: ids[0] }), jsonEvent({ n: 2 }, { id: ids[1] })];
      const original = await t.store.append({ stream: 'notebook:a', expectedVersion: 'no_stream', events });
      await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 3 })] });
      const head = await t.store.headPosition();

      // A client that never saw the acknowledgement resends with its original expected version.
      const retry = await t.store.append({
        stream: 'notebook:a',
        expectedVersion: 'no_stream',
        events: [jsonEvent({ n: 1 }, { id: ids[0] }), jsonEvent({ n: 2 }, { id: ids[1] })],
      });

      expect(retry).toEqual({ stream: 'notebook:a', version: original.version, positions: original.positions, duplicate: true });
      expect(await t.store.headPosition()).toBe(head);
      expect(await t.store.streamVersion('notebook:a')).toBe(3);
    });

    it('recognises a retry whose id is given in upper case', async () => {
      const id = uuidv7();
      const original = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id })] });

      const retry = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id: id.toUpperCase() })] });

      expect(retry).toMatchObject({ positions: original.positions, duplicate: true });
    });

    it('rejects the same id with other content as IDEMPOTENCY_CONFLICT and appends nothing', async () => {
      const id = uuidv7();
      await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id })] });
      const head = await t.store.headPosition();

      await expect(t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 999 }, { id })] })).rejects.toMatchObject({
        code: 'IDEMPOTENCY_CONFLICT',
      });
      await expect(
        t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id, meta: { actor: 'mallory' } })] }),
      ).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
      await expect(t.store.append({ stream: 'notebook:other', events: [jsonEvent({ n: 1 }, { id })] })).rejects.toMatchObject({
        code: 'IDEMPOTENCY_CONFLICT',
      });
      expect(await t.store.headPosition()).toBe(head);
    });

    it('rejects a retry that reuses only some of the original ids as IDEMPOTENCY_CONFLICT', async () => {
      const id = uuidv7();
      await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id })] });
      const head = await t.store.headPosition();

      await expect(
        t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id }), jsonEvent({ n: 2 })] }),
      ).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
      expect(await t.store.headPosition()).toBe(head);
    });

    it('stores an event once when its retry lands in the same group-commit batch as the original', async () => {
      const id = uuidv7();
      const append = () => t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id })] });

      // Both calls are queued before the batch is flushed, so they share one transaction.
      const [original, retry] = await Promise.all([append(), append()]);

      expect(original.duplicate).toBe(false);
      expect(retry).toEqual({ ...original, duplicate: true });
      expect(await readAll(t.store)).toHaveLength(1);
      expect(await t.store.streamVersion('notebook:a')).toBe(1);
    });

    it('rejects an in-batch retry with other content as IDEMPOTENCY_CONFLICT while the original commits', async () => {
      const id = uuidv7();

      const [original, conflicting] = await Promise.allSettled([
        t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id })] }),
        t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 2 }, { id })] }),
      ]);

      expect(original).toMatchObject({ status: 'fulfilled', value: { duplicate: false, version: 1 } });
      expect(conflicting).toMatchObject({ status: 'rejected', reason: { code: 'IDEMPOTENCY_CONFLICT' } });
      expect(await readAll(t.store)).toHaveLength(1);
    });

    it('rejects one append that repeats an event id without failing the rest of its batch', async () => {
      const id = uuidv7();

      const [repeated, neighbour] = await Promise.allSettled([
        t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id }), jsonEvent({ n: 1 }, { id })] }),
        t.store.append({ stream: 'notebook:b', events: [jsonEvent({ n: 2 })] }),
      ]);

      expect(repeated).toMatchObject({ status: 'rejected', reason: { code: 'BAD_REQUEST' } });
      expect(neighbour).toMatchObject({ status: 'fulfilled', value: { version: 1 } });
      expect(await t.store.streamVersion('notebook:a')).toBe(0);
    });

    it('keeps ids permanent across a restart of the store', async () => {
      const id = uuidv7();
      const original = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id })] });
      await t.store.close();
      const reopened = await t.reopen();

      const retry = await reopened.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }, { id })] });

      expect(retry).toEqual({ ...original, duplicate: true });
      expect(await reopened.headPosition()).toBe(original.positions[0]);
    });
  });
});
