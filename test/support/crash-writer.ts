/**
 * Child process of the crash test: opens the store and appends from many concurrent writers until it
 * is killed, printing `ack <event id> <position>` for every event only after its append resolved
 * (i.e. after the commit). Run with the repository's swc loader:
 *   node --import ./test/support/register-swc.mjs test/support/crash-writer.ts
 * Environment: CRASH_SQLITE_PATH, or DATABASE_URL with CRASH_PG_SCHEMA; CRASH_WRITERS (default 32).
 */
import { TypeOrmEventStore, type NewEvent } from '@palimpsest/event-store';
import { uuidv7 } from 'uuidv7';
import { MIGRATIONS } from '../../migrations/index.js';

const writers = Number(process.env.CRASH_WRITERS ?? 32);
const store = await TypeOrmEventStore.open({
  sqlitePath: process.env.CRASH_SQLITE_PATH,
  databaseUrl: process.env.CRASH_SQLITE_PATH ? undefined : process.env.DATABASE_URL,
  postgresSchema: process.env.CRASH_PG_SCHEMA,
  migrations: MIGRATIONS,
});
process.stdout.write('ready\n');

const event = (writer: number, n: number): NewEvent => ({
  id: uuidv7(),
  type: 'notebook.cell.source_edited',
  payload: { encoding: 'yjs', bytes: Uint8Array.of(writer, n & 0xff, (n >> 8) & 0xff, 0, 0xff) },
  metadata: { actor: `writer${writer}`, cell_ids: [`c${n % 4}`], notebook_id: 'crash' },
});

async function write(writer: number): Promise<never> {
  for (let n = 0; ; n++) {
    // Mostly single events, every seventh append a batch of three.
    const events = n % 7 === 0 ? [event(writer, n), event(writer, n), event(writer, n)] : [event(writer, n)];
    const { positions } = await store.append({ stream: `notebook:crash${writer}`, events });
    process.stdout.write(events.map((e, i) => `ack ${e.id} ${positions[i]}\n`).join(''));
  }
}

await Promise.all(Array.from({ length: writers }, (_, w) => write(w)));
