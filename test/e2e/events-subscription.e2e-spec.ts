import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/test-server.js';

interface ApiEvent {
  position: number;
  type: string;
  version: number;
}

/** Resolves with the next `count` events a socket receives. */
function collect(socket: Socket, count: number): Promise<ApiEvent[]> {
  const events: ApiEvent[] = [];
  return new Promise((resolve) => {
    const onEvent = (event: ApiEvent) => {
      events.push(event);
      if (events.length === count) {
        socket.off('event', onEvent);
        resolve(events);
      }
    };
    socket.on('event', onEvent);
  });
}

describe('Socket.IO /events', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let notebookId: string;
  const sockets: Socket[] = [];

  const connect = (token: string | undefined): Socket => {
    const socket = io(`${server.url}/events`, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false });
    sockets.push(socket);
    return socket;
  };
  const connected = (socket: Socket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  const addCell = (source: string) =>
    request(server.url).post(`/api/notebooks/${notebookId}/cells`).set('authorization', `Bearer ${alice}`).send({ cell_type: 'code', source }).expect(201);

  beforeAll(async () => {
    server = await startTestServer();
    [alice, bob] = await Promise.all([server.token('alice'), server.token('bob')]);
    const created = await request(server.url).post('/api/notebooks').set('authorization', `Bearer ${alice}`).send({ name: 'live.ipynb' }).expect(201);
    notebookId = created.body.id;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await server.stop();
  });

  it('refuses a handshake without a valid token', async () => {
    await expect(connected(connect(undefined))).rejects.toThrow(/token/);
    await expect(connected(connect('forged'))).rejects.toThrow(/invalid/);
  });

  it('delivers stored events from the start, then live ones, in order with no gap or duplicate', async () => {
    await addCell('a');
    const socket = connect(alice);
    await connected(socket);
    const firstThree = collect(socket, 3);
    const ack = await socket.emitWithAck('subscribe', { notebook_id: notebookId });
    expect(ack).toEqual({ ok: true });
    const stored = await firstThree;
    expect(stored.map((e) => e.version)).toEqual([1, 2, 3]);
    const live = collect(socket, 5);
    for (const source of ['b', 'c', 'd', 'e', 'f']) await addCell(source);
    const received = await live;
    expect(received.map((e) => e.version)).toEqual([4, 5, 6, 7, 8]);
    const positions = [...stored, ...received].map((e) => e.position);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
  });

  it('resumes after a position, skipping what the client already has', async () => {
    const page = await request(server.url).get(`/api/notebooks/${notebookId}/events`).set('authorization', `Bearer ${alice}`).expect(200);
    const all = page.body.events as ApiEvent[];
    const socket = connect(alice);
    await connected(socket);
    const rest = collect(socket, all.length - 4);
    await socket.emitWithAck('subscribe', { notebook_id: notebookId, after: all[3].position, types: ['notebook.cell.inserted'] });
    const received = await rest;
    expect(received[0].position).toBe(all[4].position);
    expect(received.every((e) => e.type === 'notebook.cell.inserted')).toBe(true);
  });

  it('follows a REST snapshot from its position: the first event is the next change, nothing older', async () => {
    await addCell('before the snapshot');
    const snapshot = await request(server.url).get(`/api/notebooks/${notebookId}`).set('authorization', `Bearer ${alice}`).expect(200);
    const events = await request(server.url).get(`/api/notebooks/${notebookId}/events?limit=1000`).set('authorization', `Bearer ${alice}`).expect(200);
    const atVersion = (events.body.events as Array<ApiEvent & { stream: string }>).find((e) => e.stream === `notebook:${notebookId}` && e.version === snapshot.body.version);
    expect(snapshot.body.position).toBe(atVersion?.position);

    const socket = connect(alice);
    await connected(socket);
    const next = collect(socket, 1);
    expect(await socket.emitWithAck('subscribe', { notebook_id: notebookId, after: snapshot.body.position })).toMatchObject({ ok: true });
    await addCell('after the snapshot');
    const [first] = await next;
    expect(first).toMatchObject({ type: 'notebook.cell.inserted', version: snapshot.body.version + 1 });
  });

  it('lets a viewer subscribe and refuses a stranger in the ack', async () => {
    const socket = connect(bob);
    await connected(socket);
    const refused = await socket.emitWithAck('subscribe', { notebook_id: notebookId });
    expect(refused).toMatchObject({ ok: false, error: 'FORBIDDEN' });
    await request(server.url).put(`/api/notebooks/${notebookId}/members/bob`).set('authorization', `Bearer ${alice}`).send({ role: 'viewer' }).expect(200);
    const first = collect(socket, 1);
    expect(await socket.emitWithAck('subscribe', { notebook_id: notebookId })).toEqual({ ok: true });
    expect((await first)[0].type).toBe('notebook.created');
  });

  it('answers a malformed subscribe with BAD_REQUEST', async () => {
    const socket = connect(alice);
    await connected(socket);
    expect(await socket.emitWithAck('subscribe', { after: -1 })).toMatchObject({ ok: false, error: 'BAD_REQUEST' });
    expect(await socket.emitWithAck('subscribe', { notebook_id: 'missing' })).toMatchObject({ ok: false, error: 'NOT_FOUND' });
  });
});
