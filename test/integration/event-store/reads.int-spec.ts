import type { LoggedEvent } from '@palimpsest/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { jsonEvent, readAll, yjsEvent } from '../../support/events.js';
import { openTestStore, STORE_BACKENDS, type TestStore } from '../../support/test-store.js';

/** Resolves once the wall clock has moved past `time` (what since/until compare against). */
async function clockPast(time: number): Promise<void> {
  while (Date.now() <= time) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Real Yjs updates: a cell source typed character by character. */
function yjsUpdates(text: string): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const source = doc.getText('source');
  for (const char of text) source.insert(source.length, char);
  doc.destroy();
  return updates;
}

const positionsOf = (events: readonly LoggedEvent[]) => events.map((e) => e.position);

describe.each(STORE_BACKENDS)('TypeOrmEventStore reads on %s', (backend) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(backend);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  describe('binary Yjs payloads', () => {
    it('stores Yjs updates as raw bytes and returns them byte-exact', async () => {
      const updates = yjsUpdates('print(1)');
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
      // A view into the middle of a larger buffer: only its own bytes may be stored.
      const view = new Uint8Array(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02, 0xc3, 0x28, 0xee]).buffer, 2, 5);
      const payloads = [...updates, everyByte, view];
      const { positions } = await t.store.append({ stream: 'notebook:y', events: payloads.map((bytes) => yjsEvent(bytes)) });

      const stored = await t.store.readStream('notebook:y');

      expect(stored.map((e) => e.payload.encoding)).toEqual(payloads.map(() => 'yjs'));
      stored.forEach((event, i) => {
        if (event.payload.encoding !== 'yjs') throw new Error('not a Yjs payload');
        expect(Buffer.from(event.payload.bytes).equals(Buffer.from(payloads[i]))).toBe(true);
      });
      const doc = new Y.Doc();
      for (const event of stored.slice(0, updates.length)) if (event.payload.encoding === 'yjs') Y.applyUpdate(doc, event.payload.bytes);
      expect(doc.getText('source').toJSON()).toBe('print(1)');

      const sql =
        backend === 'sqlite'
          ? `SELECT typeof(data) AS kind, hex(data) AS hex FROM events WHERE position IN (${positions.join(', ')}) ORDER BY position`
          : `SELECT pg_typeof(data)::text AS kind, upper(encode(data, 'hex')) AS hex FROM events WHERE position IN (${positions.join(', ')}) ORDER BY position`;
      const rows = await t.rawQuery<{ kind: string; hex: string }>(sql);
      expect(rows.map((r) => r.kind)).toEqual(payloads.map(() => (backend === 'sqlite' ? 'blob' : 'bytea')));
      expect(rows.map((r) => r.hex)).toEqual(payloads.map((p) => Buffer.from(p).toString('hex').toUpperCase()));
    });

    it('keeps JSON payloads as canonical JSON bytes', async () => {
      const { positions } = await t.store.append({ stream: 'notebook:j', events: [jsonEvent({ z: 1, a: [true, null], m: 'é' })] });

      const sql =
        backend === 'sqlite'
          ? `SELECT typeof(data) AS kind, CAST(data AS TEXT) AS text FROM events WHERE position = ${positions[0]}`
          : `SELECT pg_typeof(data)::text AS kind, convert_from(data, 'UTF8') AS text FROM events WHERE position = ${positions[0]}`;
      const [row] = await t.rawQuery<{ kind: string; text: string }>(sql);

      expect(row).toEqual({ kind: backend === 'sqlite' ? 'blob' : 'bytea', text: '{"a":[true,null],"m":"é","z":1}' });
    });
  });

  it('hands committed events to listeners exactly as reading them back returns them, key order included', async () => {
    const committed: LoggedEvent[] = [];
    const off = t.store.onCommitted((events) => committed.push(...events));
    // Unsorted keys, members JSON leaves out, negative zero, toJSON, array-index keys, a __proto__ member.
    const awkward = { z: -0, a: [undefined, -0, { y: 1, b: undefined }], skip: undefined, when: new Date(0), n: { 10: 'ten', 9: 'nine', k: 1 } };
    const withProto: unknown = JSON.parse('{"z":1,"__proto__":{"x":1},"a":2}');
    const { positions } = await t.store.append({
      stream: 'kernel:shape',
      events: [
        jsonEvent(awkward, { meta: { notebook_id: 'n1', cell_ids: ['c1'], execution_id: 'e1' } }),
        jsonEvent(withProto as Record<string, unknown>),
        yjsEvent(yjsUpdates('q')[0], { type: 'notebook.cell.source_edited', meta: { cell_ids: ['c1'] } }),
      ],
    });
    await t.store.settled();
    off();
    const stored = await t.store.readStream('kernel:shape');
    const live = committed.filter((event) => positions.includes(event.position));
    expect(live).toStrictEqual(stored);
    expect(live.map((event) => JSON.stringify(event))).toEqual(stored.map((event) => JSON.stringify(event)));
    expect(live[0].payload).toStrictEqual({ encoding: 'json', json: { a: [null, 0, { y: 1 }], n: { 10: 'ten', 9: 'nine', k: 1 }, when: '1970-01-01T00:00:00.000Z', z: 0 } });
  });

  describe('filtered reads', () => {
    let all: LoggedEvent[];

    beforeEach(async () => {
      await t.store.append({
        stream: 'notebook:n1',
        events: [
          jsonEvent({ name: 'a', owner: 'alice' }, { meta: { notebook_id: 'n1' } }),
          yjsEvent(yjsUpdates('x')[0], { type: 'notebook.cell.inserted', meta: { notebook_id: 'n1', cell_ids: ['c1'] } }),
          yjsEvent(yjsUpdates('y')[0], { type: 'notebook.cell.source_edited', meta: { notebook_id: 'n1', cell_ids: ['c1'] } }),
        ],
      });
      await t.store.append({
        stream: 'notebook:n1',
        events: [
          jsonEvent({ user: 'bob', role: 'editor' }, { type: 'notebook.member.granted', meta: { notebook_id: 'n1' } }),
          yjsEvent(yjsUpdates('z')[0], { type: 'notebook.cell.source_edited', meta: { actor: 'bob', notebook_id: 'n1', cell_ids: ['c2', 'c1'] } }),
        ],
      });
      await t.store.append({
        stream: 'kernel:k1',
        events: [
          jsonEvent({ channel: 'iopub', msg_type: 'stream' }, { type: 'kernel.message', meta: { actor: 'kernel:k1', notebook_id: 'n1', cell_ids: ['c2'] } }),
        ],
      });
      await t.store.append({
        stream: 'notebook:n2',
        events: [
          jsonEvent({ name: 'b', owner: 'bob' }, { meta: { actor: 'bob', notebook_id: 'n2' } }),
          yjsEvent(yjsUpdates('w')[0], { type: 'notebook.cell.source_edited', meta: { actor: 'bob', notebook_id: 'n2', cell_ids: ['c1'] } }),
        ],
      });
      all = await readAll(t.store);
      expect(all).toHaveLength(8);
    });

    it('filters by actor, in position order', async () => {
      const bob = await t.store.read({ actor: 'bob' });
      expect(positionsOf(bob)).toEqual(positionsOf(all.filter((e) => e.metadata.actor === 'bob')));
      expect(bob).toHaveLength(3);
    });

    it('filters by a set of types', async () => {
      const types = ['notebook.cell.source_edited', 'kernel.message'];
      const read = await t.store.read({ types });
      expect(read.map((e) => e.type)).toEqual(['notebook.cell.source_edited', 'notebook.cell.source_edited', 'kernel.message', 'notebook.cell.source_edited']);
    });

    it('filters by cell id, returning an event touching several cells once', async () => {
      const c1InN1 = await t.store.read({ cellId: 'c1', notebookId: 'n1' });
      expect(c1InN1.map((e) => [e.stream, e.version])).toEqual([
        ['notebook:n1', 2],
        ['notebook:n1', 3],
        ['notebook:n1', 5],
      ]);
      const c2 = await t.store.read({ cellId: 'c2' });
      expect(c2.map((e) => e.type)).toEqual(['notebook.cell.source_edited', 'kernel.message']);
    });

    it("filters by notebook, including its kernel's stream", async () => {
      const n1 = await t.store.read({ notebookId: 'n1' });
      expect(new Set(n1.map((e) => e.stream))).toEqual(new Set(['notebook:n1', 'kernel:k1']));
      expect(n1).toHaveLength(6);
      expect(await t.store.read({ stream: 'kernel:k1' })).toHaveLength(1);
    });

    it('filters by recorded time, since and until both inclusive', async () => {
      await clockPast(all[all.length - 1].recordedAt);
      const middle = await t.store.append({ stream: 'notebook:n3', events: [jsonEvent({ n: 1 }), jsonEvent({ n: 2 })] });
      const [first] = await t.store.readStream('notebook:n3');
      await clockPast(first.recordedAt);
      await t.store.append({ stream: 'notebook:n3', events: [jsonEvent({ n: 3 })] });

      const window = await t.store.read({ since: first.recordedAt, until: first.recordedAt });
      expect(positionsOf(window)).toEqual(middle.positions);
      expect(await t.store.read({ until: first.recordedAt - 1 })).toHaveLength(8);
      expect(await t.store.read({ since: first.recordedAt + 1 })).toHaveLength(1);
      expect(await t.store.versionAt('notebook:n3', first.recordedAt)).toBe(2);
      expect(await t.store.versionAt('notebook:n3', first.recordedAt - 1)).toBe(0);
    });

    it('pages through a filtered read with after, without overlap or loss', async () => {
      const pages: LoggedEvent[][] = [];
      let after = 0;
      for (;;) {
        const page = await t.store.read({ notebookId: 'n1', after, limit: 2 });
        if (page.length === 0) break;
        pages.push(page);
        after = page[page.length - 1].position;
      }

      expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
      expect(positionsOf(pages.flat())).toEqual(positionsOf(all.filter((e) => e.metadata.notebook_id === 'n1')));
    });

    it('combines filters with after and limit', async () => {
      const afterFirstBobEvent = (await t.store.read({ actor: 'bob', limit: 1 }))[0].position;

      const read = await t.store.read({ actor: 'bob', types: ['notebook.cell.source_edited'], after: afterFirstBobEvent, limit: 1 });

      expect(read).toHaveLength(1);
      expect(read[0]).toMatchObject({ stream: 'notebook:n2', version: 2 });
    });

    it('reads one stream between versions, inclusive', async () => {
      const range = await t.store.readStream('notebook:n1', 2, 4);
      expect(range.map((e) => e.version)).toEqual([2, 3, 4]);
      expect(await t.store.streamVersion('notebook:n1')).toBe(5);
      expect(await t.store.streamVersion('notebook:none')).toBe(0);
    });
  });
});
