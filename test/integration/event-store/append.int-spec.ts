import type { EventMetadata, LoggedEvent } from '@palimpsest/contracts';
import type { NewEvent } from '@palimpsest/event-store';
import { Client } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore, STORE_BACKENDS, type TestStore } from '../../support/test-store.js';

const meta = (actor = 'alice'): EventMetadata => ({ actor, cell_ids: [], notebook_id: 'nb1' });
const created = (name: string, id?: string): NewEvent => ({
  id,
  type: 'notebook.created',
  payload: { encoding: 'json', json: { name, owner: 'alice' } },
  metadata: meta(),
});

describe.each(STORE_BACKENDS)('TypeOrmEventStore on %s', (backend) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(backend);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('appends with gap-free stream versions and increasing global positions', async () => {
    const a = await t.store.append({ stream: 'notebook:a', events: [created('a1'), created('a2')] });
    const b = await t.store.append({ stream: 'notebook:b', events: [created('b1')] });
    const c = await t.store.append({ stream: 'notebook:a', expectedVersion: 2, events: [created('a3')] });
    expect(a.version).toBe(2);
    expect(c.version).toBe(3);
    const all = [...a.positions, ...b.positions, ...c.positions];
    expect([...all].sort((x, y) => x - y)).toEqual(all);
    const stream = await t.store.readStream('notebook:a');
    expect(stream.map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it('rejects a stale expected version with VERSION_CONFLICT and appends nothing', async () => {
    await t.store.append({ stream: 'notebook:a', events: [created('x')] });
    await expect(t.store.append({ stream: 'notebook:a', expectedVersion: 0, events: [created('y')] })).rejects.toMatchObject({
      code: 'VERSION_CONFLICT',
    });
    expect(await t.store.streamVersion('notebook:a')).toBe(1);
  });

  it('stays correct when another writer moved a stream head behind its back (a second store on the same database)', async () => {
    await t.store.append({ stream: 'notebook:a', events: [created('mine 1')] });
    const other = await t.reopen();
    try {
      await other.append({ stream: 'notebook:a', events: [created('theirs 2')] });
      // This store last saw version 1: its append must still land at 3, chained to the other's event.
      const mine = await t.store.append({ stream: 'notebook:a', events: [created('mine 3')] });
      expect(mine.version).toBe(3);
      await expect(t.store.append({ stream: 'notebook:a', expectedVersion: 3, events: [created('mine 4')] })).resolves.toMatchObject({ version: 4 });
      expect((await t.store.readStream('notebook:a')).map((e) => (e.payload.encoding === 'json' ? (e.payload.json as { name: string }).name : ''))).toEqual([
        'mine 1',
        'theirs 2',
        'mine 3',
        'mine 4',
      ]);
      expect(await t.store.verify('notebook:a')).toMatchObject({ ok: true, checked: 4 });
    } finally {
      // The cleanup closes the store opened last (`other`); this one is closed here.
      await t.store.close();
    }
  });

  if (backend === 'postgres') {
    it('fails an append the database refuses at insert or at commit, acknowledges none of it, and appends on the same connection next', async () => {
      const admin = new Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      try {
        // A real refusal by the database: triggers in the test's own schema that raise while a flag row exists.
        const schema = t.location;
        await admin.query(`CREATE TABLE ${schema}.refuse (at text PRIMARY KEY)`);
        await admin.query(`CREATE FUNCTION ${schema}.refuse_append() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF EXISTS (SELECT 1 FROM ${schema}.refuse WHERE at = TG_ARGV[0]) THEN RAISE EXCEPTION 'refused at %', TG_ARGV[0]; END IF;
            RETURN NULL;
          END $$`);
        await admin.query(`CREATE TRIGGER refuse_insert AFTER INSERT ON ${schema}.events FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse_append('insert')`);
        await admin.query(
          `CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON ${schema}.events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${schema}.refuse_append('commit')`,
        );
        const seen: LoggedEvent[] = [];
        const subscription = t.store.subscribe({}, { onEvents: (events) => void seen.push(...events) });
        await subscription.live;

        await t.store.append({ stream: 'notebook:a', events: [created('before')] });
        for (const at of ['insert', 'commit']) {
          await admin.query(`INSERT INTO ${schema}.refuse VALUES ($1)`, [at]);
          await expect(t.store.append({ stream: 'notebook:a', events: [created(`refused at ${at}`)] })).rejects.toThrow(`refused at ${at}`);
          await admin.query(`DELETE FROM ${schema}.refuse`);
        }
        // The pool hands out the connection released last: the one whose transaction failed, rolled back and usable.
        const after = await t.store.append({ stream: 'notebook:a', events: [created('after 1'), created('after 2')] });
        expect(after.version).toBe(3);

        const names = (await t.store.readStream('notebook:a')).map((e) => (e.payload.encoding === 'json' ? (e.payload.json as { name: string }).name : ''));
        expect(names).toEqual(['before', 'after 1', 'after 2']);
        expect(await t.store.verify('notebook:a')).toMatchObject({ ok: true, checked: 3 });
        await t.store.settled();
        subscription.close();
        expect(seen.map((e) => e.position)).toEqual((await t.store.readStream('notebook:a')).map((e) => e.position));
      } finally {
        await admin.end();
      }
    });
  }
});
