import { SQLITE_FILE_NAME } from '@palimpsest/event-store';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(resolve(process.cwd(), '../shared/fixtures/notebooks', name), 'utf8'));

describe('notebooks and cells over REST', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let carol: string;
  const api = () => request(server.url);

  beforeAll(async () => {
    server = await startTestServer();
    [alice, bob, carol] = await Promise.all([server.token('alice'), server.token('bob'), server.token('carol')]);
  });
  afterAll(async () => {
    await server.stop();
  });

  async function createNotebook(token = alice, body: object = { name: 'analysis.ipynb' }): Promise<{ id: string; version: number }> {
    const response = await api().post('/api/notebooks').set('authorization', `Bearer ${token}`).send(body).expect(201);
    return response.body;
  }

  async function eventCount(id: string): Promise<number> {
    const response = await api().get(`/api/notebooks/${id}/events?limit=1000`).set('authorization', `Bearer ${alice}`).expect(200);
    return response.body.events.length;
  }

  it('creates an empty notebook, lists it with the owner role and reads it back', async () => {
    const created = await createNotebook();
    expect(created).toMatchObject({ id: expect.any(String), name: 'analysis.ipynb', version: 2 });
    const list = await api().get('/api/notebooks').set('authorization', `Bearer ${alice}`).expect(200);
    expect(list.body.notebooks).toContainEqual({ id: created.id, name: 'analysis.ipynb', version: 2, role: 'owner' });
    const got = await api().get(`/api/notebooks/${created.id}`).set('authorization', `Bearer ${alice}`).expect(200);
    expect(got.body).toMatchObject({ id: created.id, version: 2, content: { nbformat: 4, nbformat_minor: 5, cells: [] } });
  });

  it('imports an nbformat 4.4 notebook, giving every cell an id', async () => {
    const { id } = await createNotebook(alice, { name: 'widgets.ipynb', content: fixture('ipywidgets/Widget List.ipynb') });
    const got = await api().get(`/api/notebooks/${id}`).set('authorization', `Bearer ${alice}`).expect(200);
    const cells = got.body.content.cells as Array<{ id: string }>;
    expect(cells.length).toBeGreaterThan(10);
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
  });

  it.each([
    ['nbformat/test3.ipynb', /only nbformat 4/],
    ['nbformat/invalid.ipynb', /\//],
  ])('refuses %s with 422 naming the problem and creates nothing', async (name, message) => {
    const before = await api().get('/api/notebooks').set('authorization', `Bearer ${carol}`).expect(200);
    const response = await api().post('/api/notebooks').set('authorization', `Bearer ${carol}`).send({ name: 'x', content: fixture(name) }).expect(422);
    expect(response.body.error).toBe('INVALID_NOTEBOOK');
    expect(response.body.message).toMatch(message);
    const after = await api().get('/api/notebooks').set('authorization', `Bearer ${carol}`).expect(200);
    expect(after.body.notebooks).toEqual(before.body.notebooks);
  });

  it('inserts, edits, moves and deletes cells, each one change with the actor in the audit', async () => {
    const { id } = await createNotebook();
    const auth = { authorization: `Bearer ${alice}` };
    const first = await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source: 'print(1)' }).expect(201);
    expect(first.body).toMatchObject({ cell: { cell_type: 'code', id: expect.any(String) }, version: 3 });
    const second = await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'markdown', source: '# Title', index: 0 }).expect(201);
    const cellId = first.body.cell.id as string;
    const patched = await api().patch(`/api/notebooks/${id}/cells/${cellId}`).set(auth).send({ source: 'print(2)' }).expect(200);
    expect(patched.body.cell.source).toBe('print(2)');
    const moved = await api().post(`/api/notebooks/${id}/cells/${cellId}/move`).set(auth).send({ index: 0 }).expect(200);
    expect(moved.body.cell.id).toBe(cellId);
    await api().delete(`/api/notebooks/${id}/cells/${second.body.cell.id}`).set(auth).expect(200);
    const got = await api().get(`/api/notebooks/${id}`).set(auth).expect(200);
    expect(got.body.content.cells.map((c: { id: string }) => c.id)).toEqual([cellId]);
    expect(got.body.version).toBe(7);

    const events = await api().get(`/api/notebooks/${id}/events?after=0`).set(auth).expect(200);
    const types = events.body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual([
      'notebook.created',
      'notebook.content.imported',
      'notebook.cell.inserted',
      'notebook.cell.inserted',
      'notebook.cell.source_edited',
      'notebook.cell.moved',
      'notebook.cell.deleted',
    ]);
    const edit = events.body.events[4];
    expect(edit).toMatchObject({ actor: 'alice', cell_ids: [cellId], stream: `notebook:${id}`, version: 5 });
    expect(edit.data).toMatchObject({ changes: [{ kind: 'source_edited', cell_id: cellId }], description: `cell ${cellId} source edited` });
    // The log stores neither for the edit (its type and cell_ids imply both), but does for the insert (its index).
    const db = new Database(join(server.dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      const stored = (position: number) => JSON.parse((db.prepare('SELECT CAST(metadata AS TEXT) AS json FROM events WHERE position = ?').get(position) as { json: string }).json);
      expect(Object.keys(stored(edit.position))).not.toContain('changes');
      expect(Object.keys(stored(edit.position))).not.toContain('description');
      expect(stored(events.body.events[2].position)).toMatchObject({ changes: [{ kind: 'inserted', index: 0 }], description: expect.stringContaining('inserted at 0') });
    } finally {
      db.close();
    }
    const byCell = await api().get(`/api/notebooks/${id}/events?cell_id=${cellId}`).set(auth).expect(200);
    expect(byCell.body.events.every((e: { cell_ids: string[] }) => e.cell_ids.includes(cellId))).toBe(true);
  });

  it('rejects a stale expected_version with 409 and appends nothing', async () => {
    const { id } = await createNotebook();
    const auth = { authorization: `Bearer ${alice}` };
    await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source: 'a', expected_version: 2 }).expect(201);
    const stale = await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source: 'b', expected_version: 2 }).expect(409);
    expect(stale.body).toMatchObject({ error: 'VERSION_CONFLICT', expected_version: 2, current_version: 3 });
    expect(await eventCount(id)).toBe(3);
  });

  it('enforces roles: viewers read but never write, strangers get 403, read-only tokens never write', async () => {
    const { id } = await createNotebook();
    const owner = { authorization: `Bearer ${alice}` };
    await api().put(`/api/notebooks/${id}/members/bob`).set(owner).send({ role: 'viewer' }).expect(200);
    const before = await eventCount(id);
    await api().get(`/api/notebooks/${id}`).set('authorization', `Bearer ${bob}`).expect(200);
    const viewerWrite = await api().post(`/api/notebooks/${id}/cells`).set('authorization', `Bearer ${bob}`).send({ cell_type: 'code' }).expect(403);
    expect(viewerWrite.body.error).toBe('FORBIDDEN');
    await api().get(`/api/notebooks/${id}`).set('authorization', `Bearer ${carol}`).expect(403);
    await api().delete(`/api/notebooks/${id}`).set('authorization', `Bearer ${bob}`).expect(403);
    const readOnly = await server.token('alice', 'read');
    await api().post(`/api/notebooks/${id}/cells`).set('authorization', `Bearer ${readOnly}`).send({ cell_type: 'code' }).expect(403);
    expect(await eventCount(id)).toBe(before);
    await api().put(`/api/notebooks/${id}/members/bob`).set(owner).send({ role: 'editor' }).expect(200);
    await api().post(`/api/notebooks/${id}/cells`).set('authorization', `Bearer ${bob}`).send({ cell_type: 'code', source: 'x' }).expect(201);
  });

  it('answers unknown ids with 404 and bad bodies with 400/422, appending nothing', async () => {
    const { id } = await createNotebook();
    const auth = { authorization: `Bearer ${alice}` };
    expect((await api().get('/api/notebooks/nope').set(auth).expect(404)).body.error).toBe('NOT_FOUND');
    expect((await api().patch(`/api/notebooks/${id}/cells/nope`).set(auth).send({ source: 'x' }).expect(404)).body.error).toBe('NOT_FOUND');
    expect((await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'video' }).expect(400)).body.error).toBe('BAD_REQUEST');
    expect((await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source: 5 }).expect(400)).body.message).toContain('source');
    expect((await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', index: 99 }).expect(422)).body.error).toBe('UNPROCESSABLE');
    expect((await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', extra: 1 }).expect(400)).body.message).toContain('extra');
    expect(await eventCount(id)).toBe(2);
  });

  it('refuses an oversize body with 413', async () => {
    const big = 'x'.repeat(17 * 1024 * 1024);
    const response = await api().post('/api/notebooks').set('authorization', `Bearer ${alice}`).send({ name: 'big', content: { big } }).expect(413);
    expect(response.body.error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('returns the notebook as it was at a past version and time, and as an .ipynb file', async () => {
    const { id } = await createNotebook();
    const auth = { authorization: `Bearer ${alice}` };
    const cell = await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source: 'v1' }).expect(201);
    const atV3 = await api().get(`/api/notebooks/${id}`).set(auth).expect(200);
    await api().patch(`/api/notebooks/${id}/cells/${cell.body.cell.id}`).set(auth).send({ source: 'v2' }).expect(200);
    const past = await api().get(`/api/notebooks/${id}?at=3`).set(auth).expect(200);
    expect(past.body.content).toEqual(atV3.body.content);
    const events = await api().get(`/api/notebooks/${id}/events`).set(auth).expect(200);
    const pastByTime = await api().get(`/api/notebooks/${id}?at=${events.body.events[2].at}`).set(auth).expect(200);
    expect(pastByTime.body.content.cells[0].source).toBe('v1');
    const file = await api().get(`/api/notebooks/${id}/ipynb`).set(auth).expect(200);
    expect(file.headers['content-disposition']).toContain('analysis.ipynb');
    expect(JSON.parse(file.text).cells[0].source).toEqual(['v2']);
    await api().get(`/api/notebooks/${id}?at=yesterday`).set(auth).expect(400);
  });

  it('pages the audit with next until null, covering every event exactly once', async () => {
    const { id } = await createNotebook();
    const auth = { authorization: `Bearer ${alice}` };
    for (const source of ['a', 'b', 'c']) await api().post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source }).expect(201);
    const seen: number[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page: request.Response = await api().get(`/api/notebooks/${id}/events?limit=2&after=${after}`).set(auth).expect(200);
      seen.push(...page.body.events.map((e: { version: number }) => e.version));
      after = page.body.next;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('verifies the hash chain of a notebook', async () => {
    const { id } = await createNotebook();
    const response = await api().get(`/api/notebooks/${id}/verify`).set('authorization', `Bearer ${alice}`).expect(200);
    expect(response.body).toMatchObject({ ok: true, checked: 2, first_bad_position: null });
  });

  it('deletes a notebook (owner) so that it is gone from the API', async () => {
    const { id } = await createNotebook();
    await api().delete(`/api/notebooks/${id}`).set('authorization', `Bearer ${alice}`).expect(204);
    await api().get(`/api/notebooks/${id}`).set('authorization', `Bearer ${alice}`).expect(404);
  });
});
