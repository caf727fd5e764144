import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notebookStream } from '@palimpsest/contracts';
import { kernelClaimKeys } from '@palimpsest/kernels';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { cellExecutionState, waitForDoc, webSocketClient } from '../support/collab-clients.js';
import { connectSocket, processesMentioning, recordOn } from '../support/kernel-clients.js';
import { TEST_SECRET } from '../support/test-server.js';

const databaseUrl = process.env.DATABASE_URL;

describe.skipIf(!databaseUrl)('two server processes on one PostgreSQL log', () => {
  const schema = `e2e_nodes_${process.pid}_${Date.now().toString(36)}`;
  const dirs = [mkdtempSync(join(tmpdir(), 'palimpsest-node-a-')), mkdtempSync(join(tmpdir(), 'palimpsest-node-b-'))];
  let nodeA: ChildServer;
  let nodeB: ChildServer;
  let socket: Socket | undefined;

  // With REDIS_URL set (CI), the nodes also run the Redis bus and the Socket.IO Redis adapter.
  const env = { DATABASE_URL: databaseUrl!, DATABASE_SCHEMA: schema, REDIS_URL: process.env.REDIS_URL ?? '' };

  beforeAll(async () => {
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

  /** A signed-in user on node A, and a notebook of code cells that node B knows too. */
  const notebookOnBothNodes = async (name: string, ...sources: string[]) => {
    const token = (await request(nodeA.url).post('/api/auth/token').send({ secret: TEST_SECRET, user: 'alice' }).expect(200)).body.access_token as string;
    const auth = { authorization: `Bearer ${token}` };
    const { id } = (await request(nodeA.url).post('/api/notebooks').set(auth).send({ name }).expect(201)).body as { id: string };
    const cells: string[] = [];
    for (const source of sources) cells.push((await request(nodeA.url).post(`/api/notebooks/${id}/cells`).set(auth).send({ cell_type: 'code', source }).expect(201)).body.cell.id as string);
    // Node B learns of the notebook through its own tail; ask until it has.
    while ((await request(nodeB.url).get(`/api/notebooks/${id}`).set(auth)).status !== 200);
    return { token, auth, id, cells };
  };

  /** Resolves once no node holds the claim on the notebook's kernel (a killed node's connection is gone): waits for the lock itself. */
  const claimFreed = async (notebookId: string) => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const keys = kernelClaimKeys(schema, notebookStream(notebookId));
      await client.query('SELECT pg_advisory_lock($1, $2)', keys);
      await client.query('SELECT pg_advisory_unlock($1, $2)', keys);
    } finally {
      await client.end();
    }
  };

  it.skipIf(!process.env.REDIS_URL)("serves a notebook's kernel from every node: requests reaching another node are forwarded to the one that runs it", async () => {
    const { token, auth, id, cells } = await notebookOnBothNodes('forwarded.ipynb', '6 * 7');
    const started = await request(nodeA.url).post(`/api/notebooks/${id}/kernel`).set(auth).send({ name: 'python3' }).expect(201);
    const kernelId = started.body.kernel.id as string;
    // Its id works on every node as soon as it has started (Jupyter Server's API, by id).
    expect((await request(nodeB.url).get(`/api/kernels/${kernelId}`).set(auth).expect(200)).body).toMatchObject({ id: kernelId, name: 'python3' });
    expect((await request(nodeB.url).get('/api/kernels').set(auth).expect(200)).body).toContainEqual(expect.objectContaining({ id: kernelId }));

    const onB = (path: string) => `/api/notebooks/${id}${path}`;
    expect((await request(nodeB.url).post(onB('/kernel')).set(auth).send({ name: 'python3' }).expect(200)).body.kernel).toMatchObject({ id: kernelId, pending_input: null });
    expect((await request(nodeB.url).get(onB('/kernel')).set(auth).expect(200)).body.kernel.id).toBe(kernelId);
    const watcher = webSocketClient(nodeB.url, id, token);
    try {
      const executionId = (await request(nodeB.url).post(onB(`/cells/${cells[0]}/execute`)).set(auth).send({}).expect(202)).body.execution_id as string;
      expect(executionId).toEqual(expect.any(String));
      await waitForDoc(watcher.doc, (doc) => cellExecutionState(doc, cells[0]) === 'idle' && JSON.stringify(doc.getArray('cells').toJSON()).includes('42'));
    } finally {
      watcher.destroy();
    }
    // The /kernels execute event too, and the kernel's raw stream, which node B follows in the shared log.
    const kernels = await connectSocket(nodeB.url, '/kernels', token);
    try {
      expect(await kernels.emitWithAck('subscribe', { kernel_id: kernelId, msg_types: ['execute_result'] })).toEqual({ ok: true, execution_state: 'idle' });
      const results = recordOn<{ parent_header: { msg_id?: string }; content: { data: Record<string, string> } }>(kernels, 'message');
      const scratch = (await kernels.emitWithAck('execute', { notebook_id: id, code: '6 * 7' })) as { ok: boolean; execution_id: string };
      expect(scratch).toMatchObject({ ok: true, execution_id: expect.any(String) });
      const result = await results((message) => message.parent_header.msg_id === scratch.execution_id);
      expect(result.content.data['text/plain']).toBe('42');
    } finally {
      kernels.disconnect();
    }
    const completion = await request(nodeB.url).post(onB('/kernel/complete')).set(auth).send({ code: 'import o', cursor_pos: 8 }).expect(200);
    expect(completion.body.matches).toContain('os');
    // The running node's refusal comes back as it is.
    expect((await request(nodeB.url).post(onB('/input')).set(auth).send({ value: 'x' }).expect(409)).body.message).toMatch(/not waiting for input/);
    await request(nodeB.url).post(onB('/kernel/interrupt')).set(auth).send({}).expect(204);
    await request(nodeB.url).post(onB('/kernel/restart')).set(auth).send({}).expect(204);
    expect(processesMentioning(dirs[1])).toEqual([]);
    expect(processesMentioning(dirs[0]).length).toBeGreaterThan(0);

    await request(nodeB.url).delete(onB('/kernel')).set(auth).expect(204);
    await request(nodeA.url).get(onB('/kernel')).set(auth).expect(404);
    await request(nodeB.url).get(onB('/kernel')).set(auth).expect(404);
  });

  it.skipIf(!process.env.REDIS_URL)("serves and lists a standalone kernel from every node (Jupyter Server's /api/kernels), to its starter only", async () => {
    const signIn = async (user: string) => (await request(nodeA.url).post('/api/auth/token').send({ secret: TEST_SECRET, user }).expect(200)).body.access_token as string;
    const token = await signIn('alice');
    const auth = { authorization: `Bearer ${token}` };
    const kernelId = (await request(nodeA.url).post('/api/kernels').set(auth).send({ name: 'python3' }).expect(201)).body.id as string;
    const onB = `/api/kernels/${kernelId}`;

    expect((await request(nodeB.url).get(onB).set(auth).expect(200)).body).toMatchObject({ id: kernelId, name: 'python3', execution_state: 'idle' });
    // Node B lists it among the kernels of every node, to its starter only.
    const listedOn = async (node: ChildServer, headers: Record<string, string>) =>
      ((await request(node.url).get('/api/kernels').set(headers).expect(200)).body as Array<{ id: string }>).map((kernel) => kernel.id);
    expect(await listedOn(nodeB, auth)).toContain(kernelId);
    const bob = { authorization: `Bearer ${await signIn('bob')}` };
    expect(await listedOn(nodeB, bob)).not.toContain(kernelId);
    expect((await request(nodeB.url).get(onB).set(bob).expect(403)).body).toMatchObject({ error: 'FORBIDDEN' });
    await request(nodeB.url).post(`${onB}/interrupt`).set(bob).send({}).expect(403);

    // Node B follows the kernel's raw stream in the shared log: the restart's kernel_info exchange reaches its subscriber.
    const kernels = await connectSocket(nodeB.url, '/kernels', token);
    try {
      expect(await kernels.emitWithAck('subscribe', { kernel_id: kernelId, msg_types: ['kernel_info_reply'] })).toEqual({ ok: true, execution_state: 'idle' });
      const infoReplies = recordOn<{ header: { msg_type: string } }>(kernels, 'message');
      await request(nodeB.url).post(`${onB}/interrupt`).set(auth).send({}).expect(204);
      expect((await request(nodeB.url).post(`${onB}/restart`).set(auth).send({}).expect(200)).body).toMatchObject({ id: kernelId, name: 'python3' });
      expect((await infoReplies()).header.msg_type).toBe('kernel_info_reply');
    } finally {
      kernels.disconnect();
    }
    expect(processesMentioning(dirs[1])).toEqual([]);
    expect(processesMentioning(dirs[0]).length).toBeGreaterThan(0);

    await request(nodeB.url).delete(onB).set(auth).expect(204);
    expect(await listedOn(nodeB, auth)).not.toContain(kernelId);
    await request(nodeA.url).get(onB).set(auth).expect(404);
    expect((await request(nodeB.url).get(onB).set(auth).expect(404)).body).toMatchObject({ error: 'NOT_FOUND' });
    await request(nodeB.url).get('/api/kernels/00000000-0000-4000-8000-000000000000').set(auth).expect(404);
  });

  it("refuses, on a node with no bus to the others, a kernel that runs elsewhere (409, nothing started); a dead node's claim is freed", async () => {
    const { auth, id } = await notebookOnBothNodes('claimed.ipynb', '1 + 1');
    const isolatedDir = mkdtempSync(join(tmpdir(), 'palimpsest-node-c-'));
    dirs.push(isolatedDir);
    const isolated = await startChildServer(isolatedDir, { ...env, REDIS_URL: '' });
    try {
      while ((await request(isolated.url).get(`/api/notebooks/${id}`).set(auth)).status !== 200);
      const startOn = (node: ChildServer) => request(node.url).post(`/api/notebooks/${id}/kernel`).set(auth).send({ name: 'python3' });
      await startOn(nodeA).expect(201);
      const standalone = (await request(nodeA.url).post('/api/kernels').set(auth).send({ name: 'python3' }).expect(201)).body.id as string;
      const refusals = [
        await startOn(isolated),
        await request(isolated.url).post(`/api/notebooks/${id}/execute`).set(auth).send({ code: '1' }),
        await request(isolated.url).post(`/api/notebooks/${id}/kernel/interrupt`).set(auth).send({}),
        await request(isolated.url).get(`/api/notebooks/${id}/kernel`).set(auth),
        await request(isolated.url).get(`/api/kernels/${standalone}`).set(auth),
      ];
      for (const refused of refusals) {
        expect(refused.status).toBe(409);
        expect(refused.body).toMatchObject({ error: 'CONFLICT', message: expect.stringMatching(/runs on another node/) });
      }
      expect(processesMentioning(isolatedDir)).toEqual([]);
      await request(nodeA.url).delete(`/api/kernels/${standalone}`).set(auth).expect(204);

      // Stopped on A, the kernel may start on the isolated node; that node then dies with its claim.
      await request(nodeA.url).delete(`/api/notebooks/${id}/kernel`).set(auth).expect(204);
      await startOn(isolated).expect(201);
      await isolated.kill();
      await claimFreed(id);
      await startOn(nodeA).expect(201);
      await request(nodeA.url).delete(`/api/notebooks/${id}/kernel`).set(auth).expect(204);
    } finally {
      await isolated.kill();
    }
    // Back on its data dir, the node reaps the kernel it left behind.
    const again = await startChildServer(isolatedDir, { ...env, REDIS_URL: '' });
    try {
      await vi.waitFor(() => expect(processesMentioning(isolatedDir)).toEqual([]), { timeout: 10_000, interval: 50 });
    } finally {
      await again.kill();
    }
  });

  it('settles, when a killed node comes back, the cells its kernel left running, and not those another node runs now', async () => {
    const { token, auth, id, cells } = await notebookOnBothNodes('takeover.ipynb', 'import time\ntime.sleep(600)', 'import time\ntime.sleep(600)');
    const [onA, onB] = cells;
    const runUntilShownRunning = async (node: ChildServer, cellId: string) => {
      const watcher = webSocketClient(node.url, id, token);
      try {
        await request(node.url).post(`/api/notebooks/${id}/cells/${cellId}/execute`).set(auth).send({}).expect(202);
        await waitForDoc(watcher.doc, (doc) => cellExecutionState(doc, cellId) === 'running');
      } finally {
        watcher.destroy();
      }
    };

    await runUntilShownRunning(nodeA, onA);
    await nodeA.kill();
    await claimFreed(id);
    await runUntilShownRunning(nodeB, onB);
    nodeA = await startChildServer(dirs[0], env);
    const reader = webSocketClient(nodeA.url, id, token);
    try {
      await reader.synced();
      expect([cellExecutionState(reader.doc, onA), cellExecutionState(reader.doc, onB)]).toEqual(['idle', 'running']);
    } finally {
      reader.destroy();
    }
    await request(nodeB.url).delete(`/api/notebooks/${id}/kernel`).set(auth).expect(204);
    await vi.waitFor(() => expect([...processesMentioning(dirs[0]), ...processesMentioning(dirs[1])]).toEqual([]), { timeout: 10_000, interval: 50 });
  });
});
