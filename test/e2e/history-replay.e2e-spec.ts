import type { ApiEvent as ContractEvent } from '@palimpsest/contracts';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSocket, nextOn } from '../support/kernel-clients.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** An audit event as the API sends it, with its data open for inspection. */
type ApiEvent = Omit<ContractEvent, 'data'> & { data: Record<string, unknown> };

interface Progress {
  done: number;
  total: number;
}

/** Recorded time the scripted session spans, in ms: replayed at x10 it takes a tenth of it. */
const SESSION_SPAN_MS = 4000;

describe('session replay over Socket.IO /replay', () => {
  let server: TestServer;
  let alice: string;
  let notebookId: string;
  let recorded: ApiEvent[];
  const sockets: Socket[] = [];

  const api = () => request(server.url);
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  const replay = async (token = alice): Promise<Socket> => {
    const socket = await connectSocket(server.url, '/replay', token);
    sockets.push(socket);
    return socket;
  };

  /** Collects a replay's events until `end`; answers them with the arrival times of the first event and of `end`. */
  const collect = (socket: Socket) => {
    const events: ApiEvent[] = [];
    const progress: Progress[] = [];
    let firstAt = 0;
    socket.on('event', (event: ApiEvent) => {
      firstAt ||= performance.now();
      events.push(event);
    });
    socket.on('progress', (p: Progress) => progress.push(p));
    const ended = nextOn<Progress>(socket, 'end').then((end) => ({ end, endAt: performance.now() }));
    return { events, progress, ended, firstAt: () => firstAt };
  };

  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.token('alice');
    const created = await api().post('/api/notebooks').set(as(alice)).send({ name: 'replay.ipynb' }).expect(201);
    notebookId = created.body.id;
    const cell = await api().post(`/api/notebooks/${notebookId}/cells`).set(as(alice)).send({ cell_type: 'code', source: '' }).expect(201);
    // A real editing session: edits one after another until their recorded times span SESSION_SPAN_MS. The server
    // stamps an event when it appends it, on this machine's clock, so the edit sent once that span has passed from the
    // first event's stamp is recorded at least SESSION_SPAN_MS after it.
    const edit = (n: number) =>
      api().patch(`/api/notebooks/${notebookId}/cells/${cell.body.cell.id}`).set(as(alice)).send({ source: `x = ${n}` }).expect(200);
    const first = (await api().get(`/api/notebooks/${notebookId}/events?limit=1`).set(as(alice)).expect(200)).body.events[0];
    const firstAt = Date.parse(first.at);
    let n = 0;
    while (Date.now() - firstAt < SESSION_SPAN_MS) await edit(n++);
    await edit(n);
    // Every event, page by page: how many edits fit in the span depends on the machine.
    recorded = [];
    for (let after: number | null = 0; after !== null; ) {
      const page = (await api().get(`/api/notebooks/${notebookId}/events?after=${after}&limit=1000`).set(as(alice)).expect(200)).body as { events: ApiEvent[]; next: number | null };
      recorded.push(...page.events);
      after = page.next;
    }
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await server.stop();
  });

  it('replays at x10 in order, within 10% of a tenth of the recorded duration, with progress and end', async () => {
    const socket = await replay();
    const run = collect(socket);
    const ack = await socket.emitWithAck('start', { notebook_id: notebookId, speed: 10 });
    expect(ack).toEqual({ ok: true, total: recorded.length });

    const { end, endAt } = await run.ended;

    expect(run.events).toEqual(recorded);
    expect(end).toEqual({ done: recorded.length, total: recorded.length });
    expect(run.progress.at(-1)).toEqual(end);
    const span = Date.parse(recorded.at(-1)!.at) - Date.parse(recorded[0].at);
    expect(span).toBeGreaterThanOrEqual(SESSION_SPAN_MS);
    const expected = span / 10;
    const actual = endAt - run.firstAt();
    expect(Math.abs(actual - expected), `replay took ${actual.toFixed(1)} ms, expected ${expected} ms`).toBeLessThanOrEqual(expected * 0.1);
  });

  it('pauses, seeks to a version and continues from that event', async () => {
    const socket = await replay();
    const run = collect(socket);
    const fifth = nextOn(socket, 'event', () => run.events.length >= 5);
    await socket.emitWithAck('start', { notebook_id: notebookId, speed: 10 });
    await fifth;
    expect(await socket.emitWithAck('pause')).toEqual({ ok: true });
    const beforeSeek = run.events.length;
    const target = recorded[Math.floor(recorded.length * 0.8)];

    const seek = await socket.emitWithAck('seek', { version: target.version });

    expect(seek).toEqual({ ok: true, done: recorded.indexOf(target), total: recorded.length });
    expect(run.events).toHaveLength(beforeSeek); // paused: nothing more arrived
    expect(await socket.emitWithAck('resume')).toEqual({ ok: true });
    const { end } = await run.ended;
    expect(run.events.slice(beforeSeek)).toEqual(recorded.slice(recorded.indexOf(target)));
    expect(end).toEqual({ done: recorded.length, total: recorded.length });
  });

  it("plays a range as fast as possible with speed 'max' and seeks by position", async () => {
    const socket = await replay();
    const run = collect(socket);
    const from = recorded[2].version;
    const to = recorded[recorded.length - 3].version;
    const ack = await socket.emitWithAck('start', { notebook_id: notebookId, from, to, speed: 'max' });
    expect(ack).toEqual({ ok: true, total: recorded.length - 5 });
    await run.ended;
    expect(run.events).toEqual(recorded.slice(3, recorded.length - 2));

    const again = collect(socket);
    await socket.emitWithAck('start', { notebook_id: notebookId, speed: 1 });
    expect(await socket.emitWithAck('pause')).toEqual({ ok: true });
    const target = recorded[recorded.length - 4];
    expect(await socket.emitWithAck('seek', { position: target.position })).toMatchObject({ ok: true, done: recorded.length - 4 });
    // Listen before resuming: the event may arrive in the same turn as the ack.
    const arrived = nextOn(socket, 'event', (event: ApiEvent) => event.position === target.position);
    expect(await socket.emitWithAck('resume')).toEqual({ ok: true });
    await arrived;
    expect(again.events.at(-1)).toEqual(target);
    expect(await socket.emitWithAck('stop')).toEqual({ ok: true });
  });

  it('refuses a handshake without a token, and users without a role, and bad payloads', async () => {
    const anonymous = io(`${server.url}/replay`, { transports: ['websocket'], reconnection: false });
    sockets.push(anonymous);
    const refused = new Promise<void>((resolve, reject) => {
      anonymous.once('connect', () => resolve());
      anonymous.once('connect_error', reject);
    });
    await expect(refused).rejects.toThrow();
    const mallory = await replay(await server.token('mallory'));
    expect(await mallory.emitWithAck('start', { notebook_id: notebookId, speed: 10 })).toMatchObject({ ok: false, error: 'FORBIDDEN' });
    expect(await mallory.emitWithAck('pause')).toMatchObject({ ok: false, error: 'CONFLICT' });
    const socket = await replay();
    expect(await socket.emitWithAck('start', { notebook_id: notebookId, speed: -1 })).toMatchObject({ ok: false, error: 'BAD_REQUEST' });
    expect(await socket.emitWithAck('start', { notebook_id: notebookId, speed: 'max', to: 999999 })).toMatchObject({ ok: false, error: 'UNPROCESSABLE' });
  });
});
