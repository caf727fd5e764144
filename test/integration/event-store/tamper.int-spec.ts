import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonEvent, readAll } from '../../support/events.js';
import { openTestStore, STORE_BACKENDS, type TestStore } from '../../support/test-store.js';

describe.each(STORE_BACKENDS)('TypeOrmEventStore tamper evidence on %s', (backend) => {
  let t: TestStore;
  /** Positions of notebook:a versions 1..5 (each with a cell, so event_cells has rows too). */
  let positions: number[];

  beforeEach(async () => {
    t = await openTestStore(backend);
    positions = [];
    for (let n = 1; n <= 5; n++) {
      const { positions: p } = await t.store.append({
        stream: 'notebook:a',
        events: [jsonEvent({ n }, { meta: { cell_ids: n === 3 ? [] : [`cell-${n}`] } })],
      });
      positions.push(...p);
    }
    await t.store.append({ stream: 'notebook:b', events: [jsonEvent({ n: 1 }), jsonEvent({ n: 2 })] });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  describe('append-only at the database level', () => {
    it('refuses a raw UPDATE of events with the append-only trigger', async () => {
      await expect(t.rawSql(`UPDATE events SET actor = 'mallory' WHERE position = ${positions[1]}`)).rejects.toThrow(
        'events is append-only',
      );
      expect((await t.store.readStream('notebook:a', 2, 2))[0].metadata.actor).toBe('alice');
    });

    it('refuses a raw DELETE of events with the append-only trigger', async () => {
      await expect(t.rawSql(`DELETE FROM events WHERE position = ${positions[2]}`)).rejects.toThrow('events is append-only');
      expect(await readAll(t.store)).toHaveLength(7);
    });

    it('refuses raw UPDATE and DELETE of the cell index', async () => {
      await expect(t.rawSql(`UPDATE event_cells SET cell_id = 'other'`)).rejects.toThrow('event_cells is append-only');
      await expect(t.rawSql(`DELETE FROM event_cells`)).rejects.toThrow('event_cells is append-only');
      expect(await t.store.read({ cellId: 'cell-1' })).toHaveLength(1);
    });

    // SQLite has no TRUNCATE (its `DELETE FROM events` is refused above).
    if (backend === 'postgres') {
      it('refuses a raw TRUNCATE of the log', async () => {
        await expect(t.rawSql('TRUNCATE events, event_cells, event_msg_ids')).rejects.toThrow(/is append-only/);
        await expect(t.rawSql('TRUNCATE event_cells')).rejects.toThrow('event_cells is append-only');
        await expect(t.rawSql('TRUNCATE events CASCADE')).rejects.toThrow(/is append-only/);
        expect(await readAll(t.store)).toHaveLength(7);
      });
    }
  });

  describe('hash chain verification', () => {
    /** SQL that removes the append-only guard, as an attacker with file or superuser access would. */
    const disableGuard =
      backend === 'sqlite'
        ? 'DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;'
        : 'ALTER TABLE events DISABLE TRIGGER events_append_only;';

    it('verifies an untouched log as ok, counting every event', async () => {
      expect(await t.store.verify()).toEqual({ ok: true, checked: 7, first_bad_position: null, stream: null, reason: null });
      expect(await t.store.verify('notebook:a')).toMatchObject({ ok: true, checked: 5 });
    });

    it('detects a payload edited behind the application and names its position', async () => {
      const data = backend === 'sqlite' ? `CAST('{"n":99}' AS BLOB)` : `convert_to('{"n":99}', 'UTF8')`;
      await t.rawSql(`${disableGuard} UPDATE events SET data = ${data} WHERE position = ${positions[3]};`);

      const result = await t.store.verify();

      expect(result).toMatchObject({ ok: false, first_bad_position: positions[3], stream: 'notebook:a', checked: 3 });
      expect(result.reason).toMatch(/does not match/);
      expect(await t.store.verify('notebook:b')).toMatchObject({ ok: true, checked: 2 });
    });

    it('detects an edited actor column that the hash covers through the metadata', async () => {
      const metadata =
        backend === 'sqlite'
          ? `CAST('{"actor":"mallory","cell_ids":["cell-2"],"notebook_id":"nb1"}' AS BLOB)`
          : `convert_to('{"actor":"mallory","cell_ids":["cell-2"],"notebook_id":"nb1"}', 'UTF8')`;
      await t.rawSql(`${disableGuard} UPDATE events SET metadata = ${metadata}, actor = 'mallory' WHERE position = ${positions[1]};`);

      expect(await t.store.verify('notebook:a')).toMatchObject({ ok: false, first_bad_position: positions[1] });
    });

    it("detects a recorded time moved behind the application's back", async () => {
      await t.rawSql(`${disableGuard} UPDATE events SET recorded_at = recorded_at - 86400000 WHERE position = ${positions[0]};`);

      expect(await t.store.verify()).toMatchObject({ ok: false, first_bad_position: positions[0], stream: 'notebook:a' });
    });

    it('detects a row deleted from the middle of a stream at the event after the gap', async () => {
      // Version 3 has no cells, so nothing in event_cells refers to it.
      await t.rawSql(`${disableGuard} DELETE FROM events WHERE position = ${positions[2]};`);

      const result = await t.store.verify();

      expect(result).toMatchObject({ ok: false, first_bad_position: positions[3], stream: 'notebook:a' });
      expect(result.reason).toMatch(/jumps from version 2 to 4/);
    });
  });
});
