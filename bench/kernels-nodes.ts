/**
 * Kernels across nodes, real ipykernel: what a request costs when it reaches a node other than the one that runs
 * the notebook's kernel. Two server processes share a PostgreSQL log and a Redis bus (as in production); the
 * kernel runs on node A. Round trips of `1+1` (scratch code, Socket.IO `/kernels` `execute`, until both the
 * execute_reply and the idle status reach a `/kernels` subscriber), in interleaved rounds:
 * - on A, subscriber on A (the local path, the baseline);
 * - sent to B, subscriber on A: B forwards the request over the bus (`kernel.call`) and relays the answer;
 * - sent to B, subscriber on B: as a client connected only to B sees it (B follows the kernel's events in the log).
 * Also `GET /api/kernels/:id` on A and on B (forwarded to A), and `GET /api/kernels` on each (each asks the other).
 *
 *   DATABASE_URL=postgres://... REDIS_URL=redis://... node --import ./test/support/register-swc.mjs bench/kernels-nodes.ts
 *   (ROUND_TRIPS per target and round, ROUNDS override the defaults 100, 3)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import { startChildServer, type ChildServer } from '../test/support/child-server.js';
import { connectSocket } from '../test/support/kernel-clients.js';
import { TEST_SECRET } from '../test/support/test-secret.js';
import { completions, executeOver, median, ms, p95, restClient, serverRoundTrip, stopGracefully, timeRoundTrips, WARM_UP, type Rest, type RoundTrip } from './kernel-round-trips.js';

const ROUND_TRIPS = Number(process.env.ROUND_TRIPS ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

/** Times `count` sequential requests after the warm-up; answers their durations in ms. */
async function timeRequests(request: () => Promise<unknown>, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < WARM_UP + count; i++) {
    const start = performance.now();
    await request();
    if (i >= WARM_UP) times.push(performance.now() - start);
  }
  return times;
}

/** A `/kernels` socket on a node, subscribed to the kernel, with its completion waiter. */
async function subscriber(url: string, token: string, kernelId: string, sockets: Socket[]) {
  const socket = await connectSocket(url, '/kernels', token);
  sockets.push(socket);
  const ack = (await socket.emitWithAck('subscribe', { kernel_id: kernelId })) as { ok: boolean; message?: string };
  if (!ack.ok) throw new Error(`subscribe refused: ${ack.message}`);
  return { socket, completed: completions(socket) };
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!databaseUrl || !redisUrl) throw new Error('set DATABASE_URL (PostgreSQL) and REDIS_URL: the nodes share both');
  const schema = `bench_nodes_${process.pid}_${Date.now().toString(36)}`;
  const dirs = [mkdtempSync(join(tmpdir(), 'palimpsest-bench-node-a-')), mkdtempSync(join(tmpdir(), 'palimpsest-bench-node-b-'))];
  const env = { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema, REDIS_URL: redisUrl, LOG_LEVEL: 'error' };
  const nodes: ChildServer[] = [];
  const sockets: Socket[] = [];
  try {
    for (const dir of dirs) nodes.push(await startChildServer(dir, env));
    const [a, b] = nodes;
    const auth = await fetch(`${a.url}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: TEST_SECRET, user: 'bench' }) });
    const token = ((await auth.json()) as { access_token: string }).access_token;
    const onA: Rest = restClient(a.url, token);
    const onB: Rest = restClient(b.url, token);
    const notebook = (await onA('POST', '/api/notebooks', { name: 'nodes.ipynb' })) as { id: string };
    // Node B learns of the notebook through its tail of the shared log.
    while ((await fetch(`${b.url}/api/notebooks/${notebook.id}`, { headers: { authorization: `Bearer ${token}` } })).status !== 200);
    const kernelId = ((await onA('POST', `/api/notebooks/${notebook.id}/kernel`, { name: 'python3' })) as { kernel: { id: string } }).kernel.id;
    const subscriberA = await subscriber(a.url, token, kernelId, sockets);
    const subscriberB = await subscriber(b.url, token, kernelId, sockets);
    const scratch = { code: '1+1' };

    const targets: Array<{ name: string; run: RoundTrip }> = [
      { name: 'sent to A (runs the kernel), subscriber on A', run: serverRoundTrip(() => executeOver(subscriberA.socket, notebook.id, scratch), subscriberA.completed) },
      { name: 'sent to B (forwards to A), subscriber on A', run: serverRoundTrip(() => executeOver(subscriberB.socket, notebook.id, scratch), subscriberA.completed) },
      { name: 'sent to B, subscriber on B (follows the log)', run: serverRoundTrip(() => executeOver(subscriberB.socket, notebook.id, scratch), subscriberB.completed) },
    ];
    const samples = targets.map(() => ({ total: [] as number[], accepted: [] as number[] }));
    const reads = { localModel: [] as number[], forwardedModel: [] as number[], localList: [] as number[], gatheredList: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, target] of targets.entries()) await timeRoundTrips(target.run, ROUND_TRIPS, samples[i]);
      reads.localModel.push(...(await timeRequests(() => onA('GET', `/api/kernels/${kernelId}`), ROUND_TRIPS)));
      reads.forwardedModel.push(...(await timeRequests(() => onB('GET', `/api/kernels/${kernelId}`), ROUND_TRIPS)));
      reads.localList.push(...(await timeRequests(() => onA('GET', '/api/kernels'), ROUND_TRIPS)));
      reads.gatheredList.push(...(await timeRequests(() => onB('GET', '/api/kernels'), ROUND_TRIPS)));
    }

    const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
    console.log(`## Kernels across nodes benchmark (${new Date().toISOString().slice(0, 10)})\n`);
    console.log(`- ${availableParallelism()} CPUs (${cpuModel}), Node ${process.version}, real ipykernel (python3) on node A`);
    console.log('- two server processes on one PostgreSQL log and one Redis bus (loopback); clients in this process');
    console.log(`- ${ROUNDS} interleaved rounds × ${ROUND_TRIPS} per target (each after ${WARM_UP} warm-up)\n`);
    console.log('| round trip of `1+1` (Socket.IO `execute` until reply + idle at the subscriber) | median ms | p95 ms | median over A | median to the ack |');
    console.log('|---|---|---|---|---|');
    const baseline = median(samples[0].total);
    for (const [i, target] of targets.entries()) {
      const { total, accepted } = samples[i];
      console.log(`| ${target.name} | ${ms(median(total))} | ${ms(p95(total))} | ${i === 0 ? '-' : `${ms(median(total) - baseline)} ms`} | ${ms(median(accepted))} ms |`);
    }
    console.log('\n| REST read | on A: median / p95 ms | on B: median / p95 ms |');
    console.log('|---|---|---|');
    console.log(`| \`GET /api/kernels/:id\` (B forwards to A) | ${ms(median(reads.localModel))} / ${ms(p95(reads.localModel))} | ${ms(median(reads.forwardedModel))} / ${ms(p95(reads.forwardedModel))} |`);
    console.log(`| \`GET /api/kernels\` (either node waits for the other's list) | ${ms(median(reads.localList))} / ${ms(p95(reads.localList))} | ${ms(median(reads.gatheredList))} / ${ms(p95(reads.gatheredList))} |`);
  } finally {
    for (const socket of sockets) socket.disconnect();
    for (const node of nodes) await stopGracefully(node);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

await main();
