import type { ApiEvent as ContractEvent } from '@palimpsest/contracts';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSocket, nextOn, processesMentioning } from '../support/kernel-clients.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

interface Cell {
  id: string;
  cell_type: string;
  source: string;
  execution_count?: number | null;
  outputs?: unknown[];
}

interface Notebook {
  id: string;
  version: number;
  content: { cells: Cell[] };
  forked_from?: { notebook_id: string; version: number };
}

/** An audit event as the API sends it, with its data open for inspection. */
type ApiEvent = Omit<ContractEvent, 'data'> & { data: Record<string, unknown> };

const FINISHED = new Set(['ok', 'error', 'aborted']);

/** A seeded generator (tests pick the same "random" points every run). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('history: time travel, diff, cell history, restore, fork, export (real ipykernel executions)', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let notebookId: string;
  const sockets: Socket[] = [];
  /** The notebook as GET returned it after each step of the scripted session, by version. */
  const snapshots = new Map<number, Notebook>();
  const cells: Record<string, string> = {};

  const api = () => request(server.url);
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  const snapshot = async (): Promise<Notebook> => {
    const response = await api().get(`/api/notebooks/${notebookId}`).set(as(alice)).expect(200);
    snapshots.set(response.body.version, response.body);
    return response.body;
  };

  const insert = async (token: string, name: string, cell_type: string, source: string, index?: number) => {
    const response = await api().post(`/api/notebooks/${notebookId}/cells`).set(as(token)).send({ cell_type, source, index }).expect(201);
    cells[name] = response.body.cell.id;
    await snapshot();
  };
  const edit = async (token: string, name: string, source: string) => {
    await api().patch(`/api/notebooks/${notebookId}/cells/${cells[name]}`).set(as(token)).send({ source }).expect(200);
    await snapshot();
  };
  const move = async (token: string, name: string, index: number) => {
    await api().post(`/api/notebooks/${notebookId}/cells/${cells[name]}/move`).set(as(token)).send({ index }).expect(200);
    await snapshot();
  };
  const remove = async (token: string, name: string) => {
    await api().delete(`/api/notebooks/${notebookId}/cells/${cells[name]}`).set(as(token)).expect(200);
    await snapshot();
  };

  /** Executes a cell with the real kernel, snapshotting every notebook change the execution makes, until it finishes. */
  const execute = async (token: string, name: string) => {
    const events = await connectSocket(server.url, '/events', alice);
    sockets.push(events);
    const head = (await api().get(`/api/notebooks/${notebookId}/events?limit=1000`).set(as(alice)).expect(200)).body.events as ApiEvent[];
    const kernelWrites: Array<Promise<unknown>> = [];
    events.on('event', (event: ApiEvent) => {
      if (event.stream === `notebook:${notebookId}` && event.actor.startsWith('kernel:')) kernelWrites.push(snapshot());
    });
    const done = nextOn<ApiEvent>(events, 'event', (e) => e.actor.startsWith('kernel:') && e.cell_ids.includes(cells[name]) && FINISHED.has(String(e.data.execution_status)));
    await events.emitWithAck('subscribe', { notebook_id: notebookId, after: head.at(-1)?.position });
    await api().post(`/api/notebooks/${notebookId}/cells/${cells[name]}/execute`).set(as(token)).send({}).expect(202);
    await done;
    await Promise.all(kernelWrites);
    events.disconnect();
    await snapshot();
  };

  beforeAll(async () => {
    server = await startTestServer();
    [alice, bob] = await Promise.all([server.token('alice'), server.token('bob')]);
    const created = await api().post('/api/notebooks').set(as(alice)).send({ name: 'session.ipynb' }).expect(201);
    notebookId = created.body.id;
    await api().put(`/api/notebooks/${notebookId}/members/bob`).set(as(alice)).send({ role: 'editor' }).expect(200);
    await snapshot();

    // The scripted session: two users edit, move, delete and execute.
    await insert(alice, 'title', 'markdown', '# Analysis');
    await insert(alice, 'load', 'code', 'x = 1\ny = 2');
    await insert(bob, 'show', 'code', 'print(x + y)');
    await edit(bob, 'load', 'x = 10\ny = 2');
    await execute(alice, 'load');
    await execute(bob, 'show');
    await edit(alice, 'title', '# Analysis\n\nFirst look.');
    await insert(bob, 'plot', 'code', 'for i in range(3):\n    print(i)', 1);
    await move(alice, 'show', 0);
    await execute(bob, 'plot');
    await edit(alice, 'load', 'x = 10\ny = 20\nz = x * y');
    await insert(alice, 'notes', 'markdown', 'notes', 4);
    await edit(bob, 'notes', 'notes\n- second line');
    await execute(alice, 'load');
    await execute(alice, 'show');
    await remove(bob, 'notes');
    await edit(alice, 'plot', 'for i in range(2):\n    print(i * 2)');
    await execute(bob, 'plot');
    await move(bob, 'title', 3);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await api().delete(`/api/notebooks/${notebookId}/kernel`).set(as(alice));
    await server.stop();
    expect(processesMentioning(server.dataDir)).toEqual([]);
  });

  it('rebuilds the notebook at 20 random past points exactly as it was recorded then (edits by two users and executions)', async () => {
    const versions = [...snapshots.keys()];
    expect(versions.length).toBeGreaterThanOrEqual(20);
    const random = seeded(42);
    const picked = new Set<number>();
    while (picked.size < 20) picked.add(versions[Math.floor(random() * versions.length)]);
    const withOutputs = [...picked].filter((v) => snapshots.get(v)!.content.cells.some((c) => (c.outputs?.length ?? 0) > 0));
    expect(withOutputs.length).toBeGreaterThan(0);
    for (const version of picked) {
      const past = await api().get(`/api/notebooks/${notebookId}?at=${version}`).set(as(bob)).expect(200);
      expect(past.body, `version ${version}`).toEqual(snapshots.get(version));
    }
  });

  it('rebuilds by ISO time: the version in force at the time of an event', async () => {
    const events = (await api().get(`/api/notebooks/${notebookId}/events?limit=1000&type=notebook.cell.moved`).set(as(alice)).expect(200)).body.events as ApiEvent[];
    const moved = events[0];
    const past = await api().get(`/api/notebooks/${notebookId}?at=${moved.at}`).set(as(alice)).expect(200);
    expect(past.body.version).toBeGreaterThanOrEqual(moved.version);
    expect(past.body).toEqual(snapshots.get(past.body.version));
  });

  it('diffs two points per cell: inserted, deleted, moved, edited with a line diff, outputs changed, with the actors', async () => {
    const versions = [...snapshots.keys()].sort((a, b) => a - b);
    const from = versions[3]; // title, load, show inserted; load not yet edited by bob
    const to = versions[versions.length - 1];
    const response = await api().get(`/api/notebooks/${notebookId}/diff?from=${from}&to=${to}`).set(as(bob)).expect(200);
    expect(response.body).toMatchObject({ from, to });
    const byId = new Map((response.body.cells as Array<Record<string, unknown>>).map((c) => [c.cell_id, c]));
    expect(byId.get(cells.plot)).toMatchObject({ change: 'inserted', actors: expect.arrayContaining(['alice', 'bob']) });
    expect(byId.has(cells.notes)).toBe(false); // inserted and deleted in between: not in either version
    expect(byId.get(cells.load)).toMatchObject({
      change: 'edited',
      changes: expect.arrayContaining(['edited', 'outputs_changed']),
      actors: expect.arrayContaining(['alice', 'bob', expect.stringMatching(/^kernel:/)]),
      source_diff: [
        { op: 'delete', items: ['x = 1', 'y = 2'] },
        { op: 'insert', items: ['x = 10', 'y = 20', 'z = x * y'] },
      ],
    });
    expect(byId.get(cells.show)).toMatchObject({ changes: expect.arrayContaining(['outputs_changed']) });
    expect((byId.get(cells.title) as { changes: string[] }).changes).toEqual(['edited', 'moved']);

    const withNotes = versions.find((v) => snapshots.get(v)!.content.cells.some((c) => c.id === cells.notes))!;
    const deleted = await api().get(`/api/notebooks/${notebookId}/diff?from=${withNotes}&to=${to}`).set(as(alice)).expect(200);
    const notes = (deleted.body.cells as Array<Record<string, unknown>>).find((c) => c.cell_id === cells.notes);
    expect(notes).toMatchObject({ change: 'deleted', actors: ['bob'] });
  });

  it('answers 400 for a diff without from and 422 for a version past the end', async () => {
    await api().get(`/api/notebooks/${notebookId}/diff`).set(as(alice)).expect(400);
    const response = await api().get(`/api/notebooks/${notebookId}/diff?from=1&to=99999`).set(as(alice)).expect(422);
    expect(response.body.error).toBe('UNPROCESSABLE');
  });

  it("gives a cell's source after each change that touched it, with actor and type", async () => {
    const response = await api().get(`/api/notebooks/${notebookId}/cells/${cells.load}/history`).set(as(bob)).expect(200);
    const entries = response.body.entries as Array<{ version: number; actor: string; type: string; source: string; at: string }>;
    expect(response.body.cell_id).toBe(cells.load);
    const edits = entries.filter((e) => !e.actor.startsWith('kernel:'));
    expect(edits.map((e) => [e.actor, e.type, e.source])).toEqual([
      ['alice', 'notebook.cell.inserted', 'x = 1\ny = 2'],
      ['bob', 'notebook.cell.source_edited', 'x = 10\ny = 2'],
      ['alice', 'notebook.cell.source_edited', 'x = 10\ny = 20\nz = x * y'],
    ]);
    expect(entries.some((e) => e.actor.startsWith('kernel:'))).toBe(true);
    for (const entry of entries) expect(snapshots.get(entry.version)?.content.cells.find((c) => c.id === cells.load)?.source ?? entry.source).toBe(entry.source);
    const deleted = await api().get(`/api/notebooks/${notebookId}/cells/${cells.notes}/history`).set(as(bob)).expect(200);
    expect(deleted.body.entries.at(-1)).toMatchObject({ actor: 'bob', type: 'notebook.cell.deleted', source: null });
    await api().get(`/api/notebooks/${notebookId}/cells/no-such-cell/history`).set(as(bob)).expect(404);
  });

  it('restores an earlier point as a new version equal to the old content, keeping history', async () => {
    const versions = [...snapshots.keys()].sort((a, b) => a - b);
    const target = versions[8];
    const before = await snapshot();
    const viewer = await server.token('carol');
    await api().put(`/api/notebooks/${notebookId}/members/carol`).set(as(alice)).send({ role: 'viewer' }).expect(200);
    await api().post(`/api/notebooks/${notebookId}/restore`).set(as(viewer)).send({ at: target }).expect(403);
    const current = (await snapshot()).version;
    await api().post(`/api/notebooks/${notebookId}/restore`).set(as(bob)).send({ at: target, expected_version: current - 1 }).expect(409);

    const restored = await api().post(`/api/notebooks/${notebookId}/restore`).set(as(bob)).send({ at: target }).expect(200);

    expect(restored.body).toEqual({ version: current + 1, restored_from: target });
    const now = await snapshot();
    expect(now.content).toEqual(snapshots.get(target)!.content);
    const events = (await api().get(`/api/notebooks/${notebookId}/events?after=0&limit=1000&type=notebook.restored`).set(as(alice)).expect(200)).body.events as ApiEvent[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ version: current + 1, actor: 'bob', data: { restored_from: target } });
    // The past is untouched: the version before the restore still reads as it was.
    const past = await api().get(`/api/notebooks/${notebookId}?at=${before.version}`).set(as(alice)).expect(200);
    expect(past.body.content).toEqual(before.content);
  });

  it('forks a notebook at a point into a new notebook owned by the caller, linked to its origin', async () => {
    const versions = [...snapshots.keys()].sort((a, b) => a - b);
    const at = versions[10];
    const forked = await api().post(`/api/notebooks/${notebookId}/fork`).set(as(bob)).send({ at, name: 'bob-copy.ipynb' }).expect(201);
    expect(forked.body).toMatchObject({ name: 'bob-copy.ipynb', forked_from: { notebook_id: notebookId, version: at } });
    const fork = await api().get(`/api/notebooks/${forked.body.id}`).set(as(bob)).expect(200);
    expect(fork.body.content).toEqual(snapshots.get(at)!.content);
    expect(fork.body.forked_from).toEqual({ notebook_id: notebookId, version: at });
    const list = await api().get('/api/notebooks').set(as(bob)).expect(200);
    expect(list.body.notebooks).toContainEqual(expect.objectContaining({ id: forked.body.id, role: 'owner' }));
    const created = await api().get(`/api/notebooks/${forked.body.id}/events?type=notebook.created`).set(as(bob)).expect(200);
    expect(created.body.events[0].data).toEqual({ name: 'bob-copy.ipynb', owner: 'bob', forked_from: { notebook_id: notebookId, version: at } });
    await api().get(`/api/notebooks/${forked.body.id}`).set(as(alice)).expect(403);
    const now = await api().post(`/api/notebooks/${notebookId}/fork`).set(as(alice)).send({}).expect(201);
    expect(now.body.name).toBe('session-fork.ipynb');
  });

  it('exports the whole filtered audit as NDJSON and CSV, streamed, equal to the paged events', async () => {
    const paged: ApiEvent[] = [];
    for (let after: number | null = 0; after !== null; ) {
      const page: { body: { events: ApiEvent[]; next: number | null } } = await api().get(`/api/notebooks/${notebookId}/events?after=${after}&limit=7`).set(as(alice)).expect(200);
      paged.push(...page.body.events);
      after = page.body.next;
    }
    expect(paged.some((e) => e.stream.startsWith('kernel:'))).toBe(true);

    const ndjson = await api().get(`/api/notebooks/${notebookId}/events/export?format=ndjson`).set(as(bob)).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => done(null, text));
    }).expect(200);
    expect(ndjson.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(Number(ndjson.headers['x-total-events'])).toBe(paged.length);
    const lines = (ndjson.body as string).trimEnd().split('\n').map((line) => JSON.parse(line) as ApiEvent);
    expect(lines).toEqual(paged);

    const csv = await api().get(`/api/notebooks/${notebookId}/events/export?format=csv&actor=bob`).set(as(alice)).expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const records = csv.text.trimEnd().split('\r\n');
    expect(records[0]).toBe('position,stream,version,type,actor,at,cell_ids,data');
    const bobs = paged.filter((e) => e.actor === 'bob');
    expect(records).toHaveLength(bobs.length + 1);
    expect(records[1].startsWith(`${bobs[0].position},notebook:${notebookId},${bobs[0].version},${bobs[0].type},bob,${bobs[0].at},`)).toBe(true);

    const code = await api().get(`/api/notebooks/${notebookId}/events/export?type=kernel.message`).set(as(alice)).expect(200);
    const requests = code.text.trimEnd().split('\n').map((line) => JSON.parse(line) as ApiEvent).filter((e) => e.data.msg_type === 'execute_request');
    expect(requests.map((e) => [e.actor, (e.data.content as { code: string }).code])).toContainEqual(['bob', 'print(x + y)']);
    await api().get(`/api/notebooks/${notebookId}/events/export?format=xml`).set(as(alice)).expect(400);
  });

  it('verifies the notebook stream as intact', async () => {
    const response = await api().get(`/api/notebooks/${notebookId}/verify`).set(as(alice)).expect(200);
    expect(response.body).toMatchObject({ ok: true, first_bad_position: null });
    expect(response.body.checked).toBeGreaterThan(30);
  });
});
