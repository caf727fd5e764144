// The SQLite log's writer thread. better-sqlite3 is synchronous: run on the main thread, every COMMIT
// (an fsync with synchronous=FULL) would stall the event loop, and with it every socket and kernel.
// Here the transaction's statements and its fsync run beside the event loop. The main thread plans
// each batch (pure TypeScript) between the two steps of one transaction: `begin` (BEGIN IMMEDIATE and
// the reads the plan needs) and `insert` (the planned rows, then COMMIT), or in one `insert` that also
// begins when the main thread already knows the stream heads. Every other write of the
// store goes through `exec`, so this thread is the database's only writer.
import Database from 'better-sqlite3';
import { Buffer } from 'node:buffer';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ id: string; stream: string; version: number; type: string; encoding: string; data: Uint8Array; metadata: Uint8Array; actor: string; notebookId: string | null; recordedAt: number; prevHash: Uint8Array | null; hash: Uint8Array; cellIds: string[]; threadIds: string[] }} Row */
/** @typedef {{ seq: number; op: 'begin'; streams: string[]; ids: string[] } | { seq: number; op: 'insert'; rows: Row[]; begin: boolean } | { seq: number; op: 'rollback' } | { seq: number; op: 'exec'; sql: string; params: unknown[] } | { seq: number; op: 'close' }} Request */

const port = parentPort;
if (!port) throw new Error('sqlite-writer.worker.mjs runs as a worker thread');
/** @type {unknown} */
const data = workerData;
const path = /** @type {{ path: string }} */ (data).path;

const db = new Database(path);
db.pragma('journal_mode = WAL');
// FULL: a commit is on disk before it is acknowledged, even across power loss.
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');

const statements = {
  head: db.prepare('SELECT stream_id, stream_version, hash FROM events WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1'),
  byId: db.prepare('SELECT position, event_id, stream_id, stream_version, type, data, metadata FROM events WHERE event_id = ?'),
  insert: db.prepare(
    `INSERT INTO events (event_id, stream_id, stream_version, type, data_encoding, data, metadata, actor, notebook_id, recorded_at, prev_hash, hash)
     VALUES (@id, @stream, @version, @type, @encoding, @data, @metadata, @actor, @notebookId, @recordedAt, @prevHash, @hash)`,
  ),
  insertCell: db.prepare('INSERT INTO event_cells (cell_id, position) VALUES (?, ?)'),
  insertMsgId: db.prepare('INSERT INTO event_msg_ids (msg_id, position) VALUES (?, ?)'),
  begin: db.prepare('BEGIN IMMEDIATE'),
  commit: db.prepare('COMMIT'),
  rollback: db.prepare('ROLLBACK'),
};

/**
 * Inserts rows (and their cell and message-id index entries) into the open transaction and commits it.
 * @param {Row[]} rows
 */
function insertAndCommit(rows) {
  const positions = rows.map((row) => {
    const bound = { ...row, data: Buffer.from(row.data), metadata: Buffer.from(row.metadata), prevHash: row.prevHash && Buffer.from(row.prevHash), hash: Buffer.from(row.hash) };
    const position = Number(statements.insert.run(bound).lastInsertRowid);
    for (const cellId of new Set(row.cellIds)) statements.insertCell.run(cellId, position);
    for (const msgId of row.threadIds) statements.insertMsgId.run(msgId, position);
    return position;
  });
  statements.commit.run();
  return positions;
}

/** @param {Request} request */
function handle(request) {
  switch (request.op) {
    case 'begin': {
      statements.begin.run();
      const heads = request.streams.map((stream) => statements.head.get(stream) ?? null);
      const existing = request.ids.map((id) => statements.byId.get(id) ?? null);
      return { heads, existing };
    }
    case 'insert':
      if (request.begin) statements.begin.run();
      return { positions: insertAndCommit(request.rows) };
    case 'rollback':
      if (db.inTransaction) statements.rollback.run();
      return {};
    case 'exec': {
      const statement = db.prepare(request.sql);
      const params = request.params.map((p) => (p instanceof Uint8Array ? Buffer.from(p) : p));
      return statement.reader ? { rows: statement.all(...params) } : { changes: statement.run(...params).changes };
    }
    case 'close':
      db.close();
      return {};
  }
}

port.on('message', (/** @type {Request} */ request) => {
  try {
    port.postMessage({ seq: request.seq, result: handle(request) });
  } catch (error) {
    if (db.open && db.inTransaction) statements.rollback.run();
    port.postMessage({ seq: request.seq, error: error instanceof Error ? error.message : String(error) });
  }
});
