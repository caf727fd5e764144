import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { TEST_SECRET } from '../support/test-server.js';

const databaseUrl = process.env.DATABASE_URL;

describe.skipIf(!databaseUrl)('two server processes on one PostgreSQL log', () => {
  const schema = `e2e_nodes_${process.pid}_${Date.now().toString(36)}`;
  const dirs = [mkdtempSync(join(tmpdir(), 'palimpsest-node-a-')), mkdtempSync(join(tmpdir(), 'palimpsest-node-b-'))];
  let nodeA: ChildServer;
  let nodeB: ChildServer;
  let socket: Socket | undefined;

  beforeAll(async () => {
    // With REDIS_URL set (CI), the nodes also run the Redis bus and the Socket.IO Redis adapter.
    const env = { DATABASE_URL: databaseUrl!, DATABASE_SCHEMA: schema, REDIS_URL: process.env.REDIS_URL ?? '' };
    nodeA = await startChildServer(dirs[0], env);
    nodeB = await startChildServer(dirs[1], env);
  });
  afterAll(async () => {
    socket?.disconnect();
    await Promise.all([nodeA?.kill(), nodeB?.kill()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('lets a subscriber on one node follow, in order and without gaps, what clients write on both', async () => {
    const token = (await request(nodeA.url).post('/api/auth/token').send({ secret: TEST_SECRET, user: 'alice' }).expect(200)).body.access_token as string;
    const auth = { authorization: `Bearer ${token}` };
    const { id } = (await request(nodeA.url).post('/api/notebooks').set(auth).send({ name: 'shared.ipynb' }).expect(201)).body as { id: string };

    socket = io(`${nodeB.url}/events`, { auth: { token }, transports: ['websocket'], reconnection: false });
    // Node B learns of the notebook through its own tail (PostgreSQL NOTIFY); retry the subscribe until it has.
    const received: Array<{ version: number; position: number; actor: string }> = [];
    const allArrived = new Promise<void>((resolve) =>
      socket!.on('event', (event: { version: number; position: number; actor: string }) => {
        received.push(event);
        if (received.length === 8) resolve();
      }),
    );
    for (let ack = { ok: false } as { ok: boolean }; !ack.ok; ) ack = await socket.emitWithAck('subscribe', { notebook_id: id });

    for (let i = 0; i < 3; i++) {
      await request(nodeA.url).post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source: `a${i}` }).expect(201);
      await request(nodeB.url).post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source: `b${i}` }).expect(201);
    }
    await allArrived;
    expect(received.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const positions = received.map((e) => e.position);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);

    const onA = await request(nodeA.url).get(`/api/notebooks/${id}`).set(auth).expect(200);
    const onB = await request(nodeB.url).get(`/api/notebooks/${id}`).set(auth).expect(200);
    expect(onA.body.content).toEqual(onB.body.content);
    expect(onB.body.content.cells.map((c: { source: string }) => c.source).sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
  });
});
