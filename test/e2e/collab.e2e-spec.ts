import { NotebookService } from '@palimpsest/notebook';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { cellSource, socketIoClient, waitForAwareness, waitForDoc, webSocketClient, type CollabClient } from '../support/collab-clients.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

interface ApiEvent {
  type: string;
  actor: string;
  data: { client_id?: string };
}

describe('live collaboration over Socket.IO and WebSocket', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let carol: string;
  let bobReadOnly: string;
  let notebookId: string;
  let cellId: string;
  const clients: CollabClient[] = [];
  const sockets: Socket[] = [];

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const track = <T extends CollabClient>(client: T): T => (clients.push(client), client);
  const viaSocketIo = (token: string) => track(socketIoClient(server.url, notebookId, token));
  const viaWebSocket = (token: string) => track(webSocketClient(server.url, notebookId, token));
  const textOf = (client: CollabClient) => cellSource(client.doc, cellId);
  const restNotebook = async () => (await request(server.url).get(`/api/notebooks/${notebookId}`).set(auth(alice)).expect(200)).body;
  const events = async (): Promise<ApiEvent[]> =>
    (await request(server.url).get(`/api/notebooks/${notebookId}/events?limit=1000`).set(auth(alice)).expect(200)).body.events;
  const typeInto = (client: CollabClient, index: number, text: string) => {
    const cell = client.doc.getArray<Y.Map<unknown>>('cells').toArray().find((c) => c.get('id') === cellId)!;
    (cell.get('source') as Y.Text).insert(index, text);
  };

  beforeAll(async () => {
    vi.stubEnv('COLLAB_UNLOAD_DELAY_MS', '200');
    server = await startTestServer();
    [alice, bob, carol, bobReadOnly] = await Promise.all([server.token('alice'), server.token('bob'), server.token('carol'), server.token('bob', 'read')]);
    notebookId = (await request(server.url).post('/api/notebooks').set(auth(alice)).send({ name: 'live.ipynb' }).expect(201)).body.id;
    await request(server.url).put(`/api/notebooks/${notebookId}/members/bob`).set(auth(alice)).send({ role: 'editor' }).expect(200);
    await request(server.url).put(`/api/notebooks/${notebookId}/members/carol`).set(auth(alice)).send({ role: 'viewer' }).expect(200);
    cellId = (await request(server.url).post(`/api/notebooks/${notebookId}/cells`).set(auth(alice)).send({ cell_type: 'code', source: '' }).expect(201)).body.cell.id;
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
    for (const socket of sockets.splice(0)) socket.disconnect();
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await server.stop();
  });

  it('makes two editors on different transports converge on the same text, which REST returns', async () => {
    const a = viaSocketIo(alice);
    const b = viaWebSocket(bob);
    await Promise.all([waitForDoc(a.doc, () => textOf(a) === ''), waitForDoc(b.doc, () => textOf(b) === '')]);
    typeInto(a, 0, 'print(1)');
    typeInto(b, 0, '# bob\n');
    const converged = (c: CollabClient) => textOf(c)?.includes('print(1)') === true && textOf(c)?.includes('# bob\n') === true;
    await Promise.all([waitForDoc(a.doc, () => converged(a)), waitForDoc(b.doc, () => converged(b))]);
    expect(textOf(a)).toBe(textOf(b));
    const cell = (await restNotebook()).content.cells.find((c: { id: string }) => c.id === cellId);
    expect(cell.source).toBe(textOf(a));
    const logged = await events();
    expect(logged.filter((e) => e.type === 'notebook.cell.source_edited').map((e) => e.actor)).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(logged.map((e) => e.type)).toEqual(expect.arrayContaining(['notebook.client.joined']));
  });

  it('gives a client joining later the full current document', async () => {
    const late = viaWebSocket(bob);
    const lateSio = viaSocketIo(bob);
    await Promise.all([late.synced(), lateSio.synced()]);
    const { content } = await restNotebook();
    for (const client of [late, lateSio]) {
      expect(client.doc.getArray('cells').length).toBe(content.cells.length);
      expect(textOf(client)).toBe(content.cells[0].source);
    }
  });

  it("refuses a viewer's and a read-only token's edits: they reach neither the room nor the log", async () => {
    const editor = viaSocketIo(alice);
    const viewer = viaSocketIo(carol);
    const readOnly = viaWebSocket(bobReadOnly);
    await Promise.all([editor.synced(), viewer.synced(), readOnly.synced()]);
    const refused = new Promise((resolve) => viewer.provider.socket.once('update-refused', resolve));
    const denied = new Promise<string>((resolve) => {
      readOnly.provider.messageHandlers[2] = (_encoder, decoder) => resolve(new TextDecoder().decode(decoder.arr.subarray(decoder.pos + 2)));
    });
    const before = (await events()).length;
    typeInto(viewer, 0, 'VIEWER');
    typeInto(readOnly, 0, 'READONLY');
    await expect(refused).resolves.toMatchObject({ ok: false, error: 'FORBIDDEN' });
    expect(await denied).toMatch(/FORBIDDEN/);
    // The editor's next edit arrives after anything the viewers sent would have.
    typeInto(editor, 0, '#');
    const other = viaWebSocket(bob);
    await waitForDoc(other.doc, () => textOf(other)?.startsWith('#') === true);
    expect(textOf(other)).not.toMatch(/VIEWER|READONLY/);
    const after = (await events()).slice(before);
    expect(after.filter((e) => e.type.startsWith('notebook.cell')).map((e) => e.actor)).toEqual(['alice']);
  });

  it('refuses a malformed update without disturbing the room', async () => {
    const a = viaSocketIo(alice);
    const b = viaWebSocket(bob);
    await Promise.all([a.synced(), b.synced()]);
    const raw = io(`${server.url}/yjs|${notebookId}`, { auth: { token: alice }, transports: ['websocket'], reconnection: false });
    sockets.push(raw);
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    const ack = await raw.emitWithAck('sync-update', Uint8Array.of(1, 2, 3, 250, 250, 250));
    expect(ack).toMatchObject({ ok: false, error: 'BAD_REQUEST' });
    typeInto(a, 0, 'still fine ');
    await waitForDoc(b.doc, () => textOf(b)?.startsWith('still fine ') === true);
  });

  it('removes the awareness of a client that disconnects', async () => {
    const a = viaSocketIo(alice);
    const b = viaWebSocket(bob);
    await Promise.all([a.synced(), b.synced()]);
    a.awareness.setLocalStateField('user', { name: 'alice' });
    await waitForAwareness(b.awareness, (aw) => aw.getStates().has(a.doc.clientID));
    b.awareness.setLocalStateField('user', { name: 'bob' });
    await waitForAwareness(a.awareness, (aw) => aw.getStates().has(b.doc.clientID));
    a.destroy();
    await waitForAwareness(b.awareness, (aw) => !aw.getStates().has(a.doc.clientID));
    const logged = await events();
    expect(logged.map((e) => e.type)).toContain('notebook.client.left');
    expect(logged.some((e) => e.type.startsWith('notebook.awareness'))).toBe(false);
  });

  it('delivers a REST edit to connected providers of both transports', async () => {
    const a = viaSocketIo(alice);
    const b = viaWebSocket(bob);
    await Promise.all([a.synced(), b.synced()]);
    await request(server.url).patch(`/api/notebooks/${notebookId}/cells/${cellId}`).set(auth(alice)).send({ source: 'from REST' }).expect(200);
    await Promise.all([waitForDoc(a.doc, () => textOf(a) === 'from REST'), waitForDoc(b.doc, () => textOf(b) === 'from REST')]);
  });

  it('refuses a handshake without a valid token or role', async () => {
    const stranger = await server.token('mallory');
    for (const token of ['forged', stranger]) {
      const raw = io(`${server.url}/yjs|${notebookId}`, { auth: { token }, transports: ['websocket'], reconnection: false });
      sockets.push(raw);
      await expect(new Promise((resolve, reject) => (raw.once('connect', () => resolve(raw)), raw.once('connect_error', reject)))).rejects.toThrow();
    }
    for (const [token, status] of [['forged', 401], [stranger, 403]] as const) {
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/yjs/${notebookId}?token=${token}`);
      ws.on('error', () => undefined); // ws reports the refused upgrade as an error, then closes
      const refused = new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => (resolve(res.statusCode ?? 0), res.resume())));
      const closed = new Promise((resolve) => ws.once('close', resolve));
      expect(await refused).toBe(status);
      ws.terminate();
      await closed;
    }
  });

  it('unloads the live document once the last client has left', async () => {
    const live = server.app.get(NotebookService).live;
    const a = viaWebSocket(alice);
    await a.synced();
    expect(live.isLoaded(notebookId)).toBe(true);
    const unloaded = live.unloaded(notebookId);
    a.destroy();
    await unloaded;
    expect(live.isLoaded(notebookId)).toBe(false);
    const again = viaSocketIo(alice);
    await again.synced();
    expect(textOf(again)).toBe('from REST');
  });
});
