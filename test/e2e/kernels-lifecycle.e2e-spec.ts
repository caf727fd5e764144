import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { startChildServer, type ChildServer } from '../support/child-server.js';
import { cellExecutionState, waitForDoc, webSocketClient } from '../support/collab-clients.js';
import { connectSocket, nextOn, processesMentioning } from '../support/kernel-clients.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/test-server.js';

interface ApiEvent {
  stream: string;
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

const as = (token: string) => ({ authorization: `Bearer ${token}` });

/** A token for alice from any server. */
async function tokenFrom(url: string): Promise<string> {
  const response = await request(url).post('/api/auth/token').send({ secret: TEST_SECRET, user: 'alice' }).expect(200);
  return response.body.access_token as string;
}

/** A new notebook with a running kernel: its id and the kernel's. */
async function notebookWithKernel(url: string, token: string): Promise<{ notebookId: string; kernelId: string }> {
  const created = await request(url).post('/api/notebooks').set(as(token)).send({ name: 'life.ipynb' }).expect(201);
  const started = await request(url).post(`/api/notebooks/${created.body.id}/kernel`).set(as(token)).send({ name: 'python3' }).expect(201);
  return { notebookId: created.body.id as string, kernelId: started.body.kernel.id as string };
}

/**
 * Resolves with the notebook's first `kernel.lifecycle` event of a state, from its `/events` subscription:
 * the durable view. The `/kernels` status is a live tap sent before the event commits, so a read of the
 * log right after it may not have the event yet.
 */
async function lifecycleEvent(url: string, token: string, notebookId: string, state: string, sockets: Socket[]): Promise<ApiEvent> {
  const socket = await connectSocket(url, '/events', token);
  sockets.push(socket);
  const event = nextOn<ApiEvent>(socket, 'event', (candidate) => candidate.data.state === state);
  expect(await socket.emitWithAck('subscribe', { notebook_id: notebookId, types: ['kernel.lifecycle'] })).toEqual({ ok: true });
  return event;
}

async function lifecycleOf(url: string, token: string, notebookId: string): Promise<ApiEvent[]> {
  const response = await request(url).get(`/api/notebooks/${notebookId}/events?type=kernel.lifecycle`).set(as(token)).expect(200);
  return response.body.events as ApiEvent[];
}

/** Subscribes to a kernel's `/kernels` stream and resolves once its status is `dead`. */
async function deathOf(url: string, token: string, kernelId: string, sockets: Socket[]): Promise<{ dead: Promise<unknown> }> {
  const socket = await connectSocket(url, '/kernels', token);
  sockets.push(socket);
  const dead = nextOn<{ execution_state: string }>(socket, 'status', (status) => status.execution_state === 'dead');
  expect(await socket.emitWithAck('subscribe', { kernel_id: kernelId })).toMatchObject({ ok: true });
  return { dead };
}

describe('kernel lifecycle hygiene', () => {
  let server: TestServer | undefined;
  let child: ChildServer | undefined;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    const dataDir = server?.dataDir;
    await server?.stop();
    await child?.kill();
    server = child = undefined;
    if (dataDir) expect(processesMentioning(dataDir)).toEqual([]);
  });

  afterAll(() => expect(processesMentioning('palimpsest-e2e-kernels-')).toEqual([]));

  it('records and broadcasts a kernel killed with SIGKILL as died; the notebook can start a new one', async () => {
    server = await startTestServer();
    const token = await server.token('alice');
    const { notebookId, kernelId } = await notebookWithKernel(server.url, token);
    const { dead } = await deathOf(server.url, token, kernelId, sockets);
    const [pid] = processesMentioning(server.dataDir);
    const died = lifecycleEvent(server.url, token, notebookId, 'died', sockets);
    process.kill(pid, 'SIGKILL');
    await dead;
    expect(await died).toMatchObject({ actor: `kernel:${kernelId}`, data: { state: 'died', signal: 'SIGKILL' } });
    await request(server.url).get(`/api/kernels/${kernelId}`).set(as(token)).expect(404);
    const again = await request(server.url).post(`/api/notebooks/${notebookId}/kernel`).set(as(token)).send({}).expect(201);
    expect(again.body.kernel.id).not.toBe(kernelId);
  });

  it('culls a kernel idle longer than the configured timeout, recording culled then shutdown', async () => {
    server = await startTestServer({ kernelCullIdleSeconds: 1 });
    const token = await server.token('alice');
    const { notebookId, kernelId } = await notebookWithKernel(server.url, token);
    // Not through /kernels: a loaded machine may take longer to subscribe than the kernel takes to be culled.
    await lifecycleEvent(server.url, token, notebookId, 'shutdown', sockets);
    await request(server.url).get(`/api/kernels/${kernelId}`).set(as(token)).expect(404);
    const states = (await lifecycleOf(server.url, token, notebookId)).map((event) => [event.data.state, event.actor]);
    expect(states).toEqual([
      ['started', 'alice'],
      ['ready', 'alice'],
      ['culled', 'palimpsest:culler'],
      ['shutdown', 'palimpsest:culler'],
    ]);
  });

  it('reaps, at the next boot, the kernels of a server that was killed, records their end, and settles the cells they left running', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'palimpsest-e2e-kernels-'));
    try {
      child = await startChildServer(dataDir);
      const token = await tokenFrom(child.url);
      const { notebookId, kernelId } = await notebookWithKernel(child.url, token);
      expect(processesMentioning(dataDir).length).toBeGreaterThan(0);
      // A cell still running when the server dies.
      const cellId = (await request(child.url).post(`/api/notebooks/${notebookId}/cells`).set(as(token)).send({ cell_type: 'code', source: 'import time\ntime.sleep(600)' }).expect(201)).body.cell.id as string;
      const watcher = webSocketClient(child.url, notebookId, token);
      try {
        await request(child.url).post(`/api/notebooks/${notebookId}/cells/${cellId}/execute`).set(as(token)).send({}).expect(202);
        await waitForDoc(watcher.doc, (doc) => cellExecutionState(doc, cellId) === 'running');
      } finally {
        watcher.destroy();
      }
      await child.kill();
      server = await startTestServer({ dataDir });
      // Killed at boot (or gone already: ipykernel also watches its parent); the kernel's /proc entry goes with its exit.
      await vi.waitFor(() => expect(processesMentioning(dataDir)).toEqual([]), { timeout: 10_000, interval: 50 });
      const reaped = (await lifecycleOf(server.url, await server.token('alice'), notebookId)).at(-1);
      expect(reaped).toMatchObject({ stream: `kernel:${kernelId}`, actor: 'palimpsest:reaper', data: { state: 'died', kernel_name: 'python3' } });
      // No kernel will finish that cell: the reaper shows it idle, outputs untouched.
      const reader = webSocketClient(server.url, notebookId, token);
      try {
        await reader.synced();
        expect(cellExecutionState(reader.doc, cellId)).toBe('idle');
      } finally {
        reader.destroy();
      }
      const byReaper = await request(server.url).get(`/api/notebooks/${notebookId}/events?actor=palimpsest:reaper`).set(as(token)).expect(200);
      const settled = (byReaper.body.events as ApiEvent[]).filter((event) => event.stream === `notebook:${notebookId}`);
      expect(settled).toHaveLength(1);
      expect(settled[0].data).toMatchObject({ changes: [{ cell_id: cellId, kind: 'execution_changed' }] });
    } finally {
      await server?.stop();
      server = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
