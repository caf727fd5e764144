import { deriveSealKey, StreamSealer, type StreamSeal, type StreamVerdict } from '@palimpsest/event-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deferred, jsonEvent } from '../../support/events.js';
import { openTestStore, STORE_BACKENDS, type TestStore } from '../../support/test-store.js';

const SEAL_KEY = deriveSealKey('test-secret');

describe.each(STORE_BACKENDS)('stream seals and truncation evidence on %s', (backend) => {
  let t: TestStore;
  /** Positions of notebook:a versions 1..5. */
  let positions: number[];

  /** Removes the last `count` events of a stream behind the application's back, as an attacker with file or superuser access would. */
  async function truncate(stream: string, fromPosition: number): Promise<void> {
    const where = `position >= ${fromPosition} AND position IN (SELECT position FROM events WHERE stream_id = '${stream}')`;
    const sql =
      backend === 'sqlite'
        ? `DROP TRIGGER events_no_delete; DROP TRIGGER event_cells_no_delete; DELETE FROM event_cells WHERE ${where}; DELETE FROM events WHERE ${where};`
        : `ALTER TABLE events DISABLE TRIGGER events_append_only; ALTER TABLE event_cells DISABLE TRIGGER event_cells_append_only;
           DELETE FROM event_cells WHERE ${where}; DELETE FROM events WHERE ${where};`;
    await t.rawSql(sql);
  }

  async function appendA(n: number): Promise<void> {
    const { positions: p } = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n }, { meta: { cell_ids: [`cell-${n}`] } })] });
    positions.push(...p);
  }

  beforeEach(async () => {
    t = await openTestStore(backend, { sealKey: SEAL_KEY });
    positions = [];
    for (let n = 1; n <= 3; n++) await appendA(n);
    await t.store.append({ stream: 'notebook:b', events: [jsonEvent({ n: 1 }), jsonEvent({ n: 2 })] });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('seals each changed stream head once, signed', async () => {
    const seals = await t.store.sealHeads();
    expect(seals.map((s) => [s.stream, s.version]).sort()).toEqual([
      ['notebook:a', 3],
      ['notebook:b', 2],
    ]);
    expect(seals.find((s) => s.stream === 'notebook:a')?.position).toBe(positions[2]);
    expect(await t.store.sealHeads()).toEqual([]);
    await appendA(4);
    expect((await t.store.sealHeads()).map((s) => [s.stream, s.version])).toEqual([['notebook:a', 4]]);
    expect(await t.store.verify()).toMatchObject({ ok: true, checked: 6 });
  });

  it('refuses raw UPDATE and DELETE of the seals', async () => {
    await t.store.sealHeads();
    await expect(t.rawSql(`UPDATE stream_seals SET version = 9`)).rejects.toThrow('stream_seals is append-only');
    await expect(t.rawSql(`DELETE FROM stream_seals`)).rejects.toThrow('stream_seals is append-only');
  });

  it('detects a truncated stream end and names the exact first missing position when a seal pins it', async () => {
    await appendA(4);
    await t.store.sealHeads(); // sealed at version 4
    await appendA(5);
    await t.store.sealHeads(); // sealed at version 5
    await truncate('notebook:a', positions[3]);

    const result = await t.store.verify();

    expect(result).toMatchObject({ ok: false, stream: 'notebook:a', first_bad_position: positions[3], first_missing_version: 4 });
    expect(result.reason).toMatch(/ends at version 3 but was sealed at version 5/);
    expect(await t.store.verify('notebook:b')).toMatchObject({ ok: true, checked: 2 });
  });

  it('names the first missing version, and the earliest sealed missing position, when seals are sparser', async () => {
    await appendA(4);
    await appendA(5);
    await t.store.sealHeads(); // sealed at version 5 only
    await truncate('notebook:a', positions[3]);

    const result = await t.store.verify('notebook:a');

    expect(result).toMatchObject({ ok: false, first_missing_version: 4, first_bad_position: positions[4] });
    expect(result.reason).toMatch(/version 5, sealed at position/);
  });

  it('detects a stream whose every event was deleted', async () => {
    await t.store.sealHeads();
    const [first] = await t.store.readStream('notebook:b', 1, 1);
    await truncate('notebook:b', first.position);
    expect(await t.store.verify()).toMatchObject({ ok: false, stream: 'notebook:b', first_missing_version: 1 });
  });

  it('detects a seal whose signature does not match (a forged head)', async () => {
    await t.store.sealHeads();
    const guard = backend === 'sqlite' ? 'DROP TRIGGER stream_seals_no_update;' : 'ALTER TABLE stream_seals DISABLE TRIGGER stream_seals_append_only;';
    await t.rawSql(`${guard} UPDATE stream_seals SET sealed_at = sealed_at + 1 WHERE stream_id = 'notebook:a'`);
    const result = await t.store.verify();
    expect(result).toMatchObject({ ok: false, stream: 'notebook:a', first_bad_position: positions[2] });
    expect(result.reason).toMatch(/invalid signature/);
  });

  it('gives a verdict per stream, going on past a bad one, and reports progress', async () => {
    await t.store.sealHeads();
    const disable = backend === 'sqlite' ? 'DROP TRIGGER events_no_update;' : 'ALTER TABLE events DISABLE TRIGGER events_append_only;';
    await t.rawSql(`${disable} UPDATE events SET recorded_at = recorded_at + 1 WHERE position = ${positions[1]}`);
    const verdicts: StreamVerdict[] = [];
    const progress: Array<[number, number]> = [];

    const result = await t.store.verifyStreams({ onStream: (v) => verdicts.push(v), onProgress: (done, total) => progress.push([done, total]) });

    expect(result).toMatchObject({ ok: false, stream: 'notebook:a', first_bad_position: positions[1], checked: 1 });
    expect(verdicts.map((v) => [v.stream, v.ok, v.first_bad_position])).toEqual([
      ['notebook:a', false, positions[1]],
      ['notebook:b', true, null],
    ]);
    expect(progress.at(-1)).toEqual([3, 5]);
  });

  it('StreamSealer seals after a number of events and once more when stopped', async () => {
    const sealed = deferred<readonly StreamSeal[]>();
    const sealer = new StreamSealer(t.store, { intervalMs: 0, everyEvents: 2, onSealed: (seals) => {
        if (seals.length > 0) sealed.resolve(seals);
      },
    });
    await t.store.sealHeads();
    sealer.start();
    await appendA(4);
    await appendA(5);
    expect((await sealed.promise).map((s) => [s.stream, s.version])).toEqual([['notebook:a', 5]]);
    await appendA(6);
    await sealer.stop();
    const [latest] = await t.rawQuery<{ v: number | string }>(`SELECT MAX(version) AS v FROM stream_seals WHERE stream_id = 'notebook:a'`);
    expect(Number(latest.v)).toBe(6);
  });
});
