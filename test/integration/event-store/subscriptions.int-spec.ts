import type { LoggedEvent } from '@palimpsest/contracts';
import { TypeOrmEventStore, type NewEvent, type ReadQuery, type Subscription } from '@palimpsest/event-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../migrations/index.js';
import { deferred, jsonEvent, readAll, yjsEvent } from '../../support/events.js';
import { openTestStore, STORE_BACKENDS, type TestStore } from '../../support/test-store.js';

/** A subscription handler that records what it receives and lets a test wait for a position. */
class Collector {
  readonly events: LoggedEvent[] = [];
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  error: Error | null = null;
  private waiters: Array<{ position: number; resolve(): void }> = [];

  constructor(private readonly gate: Promise<void> = Promise.resolve()) {}

  readonly onEvents = async (events: readonly LoggedEvent[]): Promise<void> => {
    this.calls += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.gate;
      this.events.push(...events);
      const last = this.lastPosition;
      this.waiters = this.waiters.filter((w) => (w.position <= last ? (w.resolve(), false) : true));
    } finally {
      this.inFlight -= 1;
    }
  };

  readonly onError = (error: Error): void => {
    this.error = error;
  };

  get lastPosition(): number {
    return this.events.length ? this.events[this.events.length - 1].position : 0;
  }

  /** Resolves once an event at or beyond `position` has been received. */
  reached(position: number): Promise<void> {
    if (this.lastPosition >= position) return Promise.resolve();
    const wait = deferred();
    this.waiters.push({ position, resolve: () => wait.resolve() });
    return wait.promise;
  }
}

/** Asserts delivery exactly once and in order: strictly increasing positions equal to `expected`'s. */
function expectExactlyOnceInOrder(received: readonly LoggedEvent[], expected: readonly LoggedEvent[]): void {
  const positions = received.map((e) => e.position);
  positions.forEach((p, i) => i > 0 && expect(p).toBeGreaterThan(positions[i - 1]));
  expect(positions).toEqual(expected.map((e) => e.position));
  expect(received.map((e) => e.id)).toEqual(expected.map((e) => e.id));
}

const WRITERS = 8;
const APPENDS_PER_WRITER = 120;

/** The n-th event of a writer: alternately a Yjs edit and a JSON event, in two notebooks. */
function writerEvent(writer: number, n: number): NewEvent {
  const meta = { actor: `user${writer}`, notebook_id: `nb${writer % 2}`, cell_ids: [`c${n % 3}`] };
  return n % 2 === 0
    ? yjsEvent(Uint8Array.of(writer, n & 0xff, n >> 8), { type: 'notebook.cell.source_edited', meta })
    : jsonEvent({ user: `u${n}`, role: 'viewer' }, { type: 'notebook.member.granted', meta });
}

describe.each(STORE_BACKENDS)('TypeOrmEventStore subscriptions on %s', (backend) => {
  let t: TestStore;
  const subscriptions: Subscription[] = [];
  beforeEach(async () => {
    t = await openTestStore(backend);
  });
  afterEach(async () => {
    for (const s of subscriptions.splice(0)) s.close();
    await t.cleanup();
  });

  const subscribe = (query: Omit<ReadQuery, 'limit'>, collector: Collector): Subscription => {
    const subscription = t.store.subscribe(query, collector);
    subscriptions.push(subscription);
    return subscription;
  };

  it('delivers every event exactly once and in order to early, mid-stream and filtered subscribers under 8 concurrent writers', async () => {
    await t.store.append({ stream: 'notebook:setup', events: [jsonEvent({ name: 'before', owner: 'alice' })] });
    const early = new Collector();
    await subscribe({}, early).live;
    const filterQuery = { notebookId: 'nb0', types: ['notebook.cell.source_edited'] };
    const filtered = new Collector();
    subscribe(filterQuery, filtered);

    // The mid-stream subscriber joins from inside a writer's acknowledgement, while the others keep appending,
    // starting from an earlier position so that it both catches up from the store and goes live.
    const mid = new Collector();
    let midStart = -1;
    const acked: number[] = [];
    const onAck = (positions: number[]) => {
      acked.push(...positions);
      if (midStart < 0 && acked.length >= (WRITERS * APPENDS_PER_WRITER) / 3) {
        midStart = acked[Math.floor(acked.length / 2)];
        subscribe({ after: midStart }, mid);
      }
    };
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, writer) => {
        for (let n = 0; n < APPENDS_PER_WRITER; n++) {
          // Every fifth append carries three events, so batches mix single and multi-event appends.
          const events = n % 5 === 0 ? [writerEvent(writer, n), writerEvent(writer, n + 1000), writerEvent(writer, n + 2001)] : [writerEvent(writer, n)];
          const stream = `notebook:w${writer}`;
          onAck((await t.store.append({ stream, events })).positions);
        }
      }),
    );

    const all = await readAll(t.store);
    const head = all[all.length - 1].position;
    const wantedByFilter = all.filter((e) => e.metadata.notebook_id === 'nb0' && e.type === 'notebook.cell.source_edited');
    await Promise.all([early.reached(head), mid.reached(head), filtered.reached(wantedByFilter[wantedByFilter.length - 1].position)]);
    await t.store.settled();

    expect(all).toHaveLength(1 + WRITERS * (APPENDS_PER_WRITER + 2 * (APPENDS_PER_WRITER / 5)));
    expectExactlyOnceInOrder(early.events, all);
    expect(midStart).toBeGreaterThan(1);
    expect(midStart).toBeLessThan(acked[acked.length - 1]);
    expectExactlyOnceInOrder(mid.events, all.filter((e) => e.position > midStart));
    expectExactlyOnceInOrder(filtered.events, wantedByFilter);
    for (const c of [early, mid, filtered]) {
      expect(c.error).toBeNull();
      expect(c.maxInFlight).toBe(1);
    }
  });

  it('starts a subscription from a position and resolves live once it has caught up', async () => {
    const first = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 }), jsonEvent({ n: 2 }), jsonEvent({ n: 3 })] });
    const collector = new Collector();

    await subscribe({ after: first.positions[0] }, collector).live;
    expect(collector.events.map((e) => e.position)).toEqual(first.positions.slice(1));

    const next = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 4 })] });
    await collector.reached(next.positions[0]);
    expect(collector.events.map((e) => e.position)).toEqual([...first.positions.slice(1), ...next.positions]);
  });

  it('stops delivering after close', async () => {
    const collector = new Collector();
    const subscription = subscribe({}, collector);
    await subscription.live;
    const first = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 })] });
    await collector.reached(first.positions[0]);

    subscription.close();
    await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 2 })] });
    await t.store.settled();

    expect(collector.events.map((e) => e.position)).toEqual(first.positions);
  });

  it('hands a slow subscriber one batch at a time and, once it overflows its live buffer, the rest from the store', async () => {
    const gate = deferred();
    const slow = new Collector(gate.promise);
    await subscribe({}, slow).live;

    // 12,000 events while the subscriber is stuck in its first batch: more than its 10,000-event live buffer.
    for (let i = 0; i < 120; i++) {
      await t.store.append({ stream: `notebook:s${i % 4}`, events: Array.from({ length: 100 }, (_, n) => jsonEvent({ i, n })) });
    }
    await t.store.settled();
    gate.resolve();
    const all = await readAll(t.store);
    await slow.reached(all[all.length - 1].position);

    expectExactlyOnceInOrder(slow.events, all);
    expect(slow.maxInFlight).toBe(1);
    expect(slow.error).toBeNull();
  });

  it('reports a throwing handler through onError and stops that subscription only', async () => {
    const failed = deferred<Error>();
    const healthy = new Collector();
    await subscribe({}, healthy).live;
    const broken = t.store.subscribe({}, {
      onEvents: () => {
        throw new Error('projection bug');
      },
      onError: (error) => failed.resolve(error),
    });
    subscriptions.push(broken);
    await broken.live;

    const first = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 1 })] });
    expect((await failed.promise).message).toBe('projection bug');
    const second = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ n: 2 })] });
    await healthy.reached(second.positions[0]);

    expect(healthy.events.map((e) => e.position)).toEqual([...first.positions, ...second.positions]);
  });

  it('hands live subscribers exactly what a read returns, and what another store on the same database committed meanwhile', async () => {
    await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ first: true })] });
    const collector = new Collector();
    await subscribe({}, collector).live;
    // Live events of this store's own commits (on SQLite handed over by the commit, not read back).
    const own = await t.store.append({ stream: 'notebook:a', events: [yjsEvent(Uint8Array.of(1, 2, 3)), jsonEvent({ nested: { b: 1, a: [true, null] } })] });
    await collector.reached(own.positions[1]);
    // A second store commits behind this one's back: the next hand-over does not continue where the
    // tail is, so the tail reads the gap from the database first.
    const other = await t.reopen();
    const foreign = await other.append({ stream: 'notebook:b', events: [jsonEvent({ foreign: 1 })] });
    const after = await t.store.append({ stream: 'notebook:a', events: [jsonEvent({ after: true })] });
    await collector.reached(after.positions[0]);
    expect(foreign.positions[0]).toBeLessThan(after.positions[0]);
    const stored = await readAll(other);
    expectExactlyOnceInOrder(collector.events, stored);
    expect(collector.events).toEqual(stored);
    // The cleanup closes the store opened last (`other`); this one is closed here.
    for (const s of subscriptions.splice(0)) s.close();
    await t.store.close();
  });

  if (backend === 'postgres') {
    it('delivers events appended by another node through LISTEN/NOTIFY', async () => {
      const other = await TypeOrmEventStore.open({ databaseUrl: process.env.DATABASE_URL, postgresSchema: t.location, migrations: MIGRATIONS });
      try {
        const collector = new Collector();
        await subscribe({}, collector).live;

        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => other.append({ stream: `notebook:remote${i % 3}`, events: [jsonEvent({ i })] })),
        );

        const last = Math.max(...results.flatMap((r) => r.positions));
        await collector.reached(last);
        expectExactlyOnceInOrder(collector.events, await readAll(t.store));
      } finally {
        await other.close();
      }
    });

    it('gives both nodes every event exactly once, in order, while both commit interleaved', async () => {
      // Each node's tail takes its own commits as handed over (its own NOTIFYs are skipped) and reads the other's.
      const other = await TypeOrmEventStore.open({ databaseUrl: process.env.DATABASE_URL, postgresSchema: t.location, migrations: MIGRATIONS });
      const there = new Collector();
      const thereSubscription = other.subscribe({}, there);
      try {
        const here = new Collector();
        await subscribe({}, here).live;
        await thereSubscription.live;

        const writer = (store: TypeOrmEventStore, name: string) =>
          Promise.all(Array.from({ length: 4 }, async (_, w) => {
            const positions: number[] = [];
            for (let i = 0; i < 15; i++) positions.push(...(await store.append({ stream: `notebook:${name}${w}`, events: [jsonEvent({ i })] })).positions);
            return positions;
          }));
        const written = (await Promise.all([writer(t.store, 'here'), writer(other, 'there')])).flat(2);

        const last = Math.max(...written);
        await Promise.all([here.reached(last), there.reached(last)]);
        const stored = await readAll(t.store);
        expect(stored).toHaveLength(120);
        expect(here.events).toEqual(stored);
        expect(there.events).toEqual(stored);
      } finally {
        thereSubscription.close();
        await other.close();
      }
    });

    it('closes without an unhandled error while another node keeps committing', async () => {
      const other = await TypeOrmEventStore.open({ databaseUrl: process.env.DATABASE_URL, postgresSchema: t.location, migrations: MIGRATIONS });
      try {
        await subscribe({}, new Collector()).live;
        const twentyAcked = deferred();
        const writing = (async () => {
          for (let i = 0; i < 200; i++) {
            await other.append({ stream: 'notebook:remote', events: [jsonEvent({ i })] });
            if (i === 20) twentyAcked.resolve();
          }
        })();

        await twentyAcked.promise;
        await t.store.close();
        await writing;

        expect(await other.streamVersion('notebook:remote')).toBe(200);
      } finally {
        await other.close();
      }
    });
  }
});
