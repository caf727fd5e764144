/**
 * Kernels benchmark, real ipykernel. The server runs as a child process on a fresh SQLite data dir;
 * the clients and the direct peer run here.
 * - Round trip of `1+1` until execute_reply and the matching idle status, through the server (REST 202
 *   or Socket.IO `execute` ack, then the `/kernels` subscriber) against a direct ZmqKernel in the same
 *   run, in interleaved rounds so that drift on a shared VM hits every target alike.
 * - iopub throughput: a cell printing LINES lines (one message per line: print(..., flush=True)), counted
 *   at a Socket.IO subscriber, against the same loop read by the direct peer; the server's CPU per
 *   message and its memory.
 * - iopub capacity: one ipykernel emits ~3,000 messages/s here, less than the server can carry, so a
 *   second kernel, bench/firehose-kernel.ts (real wire protocol, launched from a kernelspec), publishes
 *   FIREHOSE stream messages as fast as its socket takes them; delivered rate and server CPU per message.
 * - Bytes stored per output byte, read from the SQLite file.
 * - Peer in the same run, when Debian's python3-jupyter-server is installed: Jupyter Server 1.23's kernel
 *   websocket (bench/jupyter-server-peer.ts), as shipped and without Nagle's algorithm, for the round trip and
 *   the print loop (its iopub rate limits off).
 *
 *   node --import ./test/support/register-swc.mjs bench/kernels.ts
 *   (ROUND_TRIPS per target and round, ROUNDS, LINES, FIREHOSE, IMAGE_BYTES override the defaults 100, 3, 100,000, 50,000, 1 MiB)
 */
import { discoverKernelSpecs, ZmqKernel, type RawKernelMessage } from '@palimpsest/kernels';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { startChildServer, type ChildServer } from '../test/support/child-server.js';
import { connectSocket } from '../test/support/kernel-clients.js';
import { TEST_SECRET } from '../test/support/test-secret.js';
import { completions, executeOver, median, ms, p95, restClient, serverRoundTrip, stopGracefully, timeRoundTrips, WARM_UP, type RoundTrip } from './kernel-round-trips.js';
import { jupyterServerInstalled, startJupyterServer, type JupyterChannels, type JupyterServerPeer } from './jupyter-server-peer.js';
import { firehoseRun, StreamCount, writeFirehoseSpec } from './firehose-capacity.js';
import { cpuSeconds, rssBytes } from './process-stats.js';

const ROUND_TRIPS = Number(process.env.ROUND_TRIPS ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const LINES = Number(process.env.LINES ?? 100_000);
const FIREHOSE = Number(process.env.FIREHOSE ?? 50_000);
const IMAGE_BYTES = Number(process.env.IMAGE_BYTES ?? 1024 * 1024);

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** The print loop read by a direct ZmqKernel. */
async function directThroughput(kernel: ZmqKernel, code: string): Promise<StreamCount> {
  const count = new StreamCount();
  const off = kernel.onMessage((message) => count.observe(message.header.msg_type, message.content));
  await kernel.execute(code, { storeHistory: false }).done;
  off();
  return count;
}

/** The print loop read over Jupyter Server's kernel websocket; whether its idle status was lost too. */
async function peerThroughput(channels: JupyterChannels, code: string): Promise<StreamCount & { idleLost: boolean }> {
  const count = new StreamCount();
  const off = channels.onMessage((message) => count.observe(message.header.msg_type, message.content));
  const { idleLost } = await channels.execute(code);
  off();
  return Object.assign(count, { idleLost });
}

/** Events of a notebook (and of its kernels) stored after a position, read from the SQLite file: count and payload + metadata bytes. */
function storedBytes(databasePath: string, notebookId: string, after: number): { bytes: number; events: number } {
  const db = new Database(databasePath, { readonly: true });
  try {
    const row = db
      .prepare<[string, number], { bytes: number | null; events: number }>(
        'SELECT SUM(length(data) + length(metadata)) AS bytes, COUNT(*) AS events FROM events WHERE notebook_id = ? AND position > ?',
      )
      .get(notebookId, after)!;
    return { bytes: row.bytes ?? 0, events: row.events };
  } finally {
    db.close();
  }
}

/** The log's newest position, read from the SQLite file. */
function headPosition(databasePath: string): number {
  const db = new Database(databasePath, { readonly: true });
  try {
    return db.prepare<[], { head: number | null }>('SELECT MAX(position) AS head FROM events').get()?.head ?? 0;
  } finally {
    db.close();
  }
}

/** Resolves once the notebook event that ends the execution (the projector's final write) is on `/events`. */
async function finalWrite(url: string, token: string, notebookId: string, after: number, executionId: string): Promise<void> {
  const events = await connectSocket(url, '/events', token);
  try {
    await new Promise<void>((resolve, reject) => {
      events.on('event', (event: { actor: string; data: Record<string, unknown> }) => {
        const finished = ['ok', 'error', 'aborted'].includes(String(event.data.execution_status));
        if (event.actor.startsWith('kernel:') && finished && event.data.execution_id === executionId) resolve();
      });
      events.emitWithAck('subscribe', { notebook_id: notebookId, after, types: ['notebook.cell.outputs_changed', 'notebook.cell.execution_changed', 'notebook.doc.updated'] }).catch(reject);
    });
  } finally {
    events.disconnect();
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'palimpsest-bench-kernels-'));
  const databasePath = join(dataDir, 'palimpsest.sqlite');
  let server: ChildServer | undefined;
  const sockets: Socket[] = [];
  const spec = discoverKernelSpecs().kernelspecs.python3.spec;
  const direct = new ZmqKernel({ name: 'python3', spec });
  let peer: JupyterServerPeer | undefined;
  try {
    const jupyterPath = join(dataDir, 'jupyter');
    writeFirehoseSpec(jupyterPath);
    server = await startChildServer(dataDir, { LOG_LEVEL: 'error', JUPYTER_PATH: jupyterPath });
    const { url } = server;
    const pid = server.child.pid!;
    const auth = await fetch(`${url}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: TEST_SECRET, user: 'bench' }) });
    const token = ((await auth.json()) as { access_token: string }).access_token;
    const rest = restClient(url, token);
    const notebook = (await rest('POST', '/api/notebooks', { name: 'bench.ipynb' })) as { id: string };
    const cell = async (source: string) => ((await rest('POST', `/api/notebooks/${notebook.id}/cells`, { cell_type: 'code', source })) as { cell: { id: string } }).cell.id;
    const kernel = (await rest('POST', `/api/notebooks/${notebook.id}/kernel`, { name: 'python3' })) as { kernel: { id: string } };
    const socket = await connectSocket(url, '/kernels', token);
    sockets.push(socket);
    await socket.emitWithAck('subscribe', { kernel_id: kernel.kernel.id });
    const completed = completions(socket);
    await direct.start();
    peer = jupyterServerInstalled() ? await startJupyterServer() : undefined;
    const peerChannels = peer ? { shipped: await peer.kernel({ nodelay: false }), nodelay: await peer.kernel({ nodelay: true }) } : undefined;

    // Round trips, interleaved by round.
    const onePlusOne = await cell('1+1');
    const execute = (body: Record<string, unknown>) => executeOver(socket, notebook.id, body);
    const targets: Array<{ name: string; run: RoundTrip }> = [
      { name: 'direct ZmqKernel (execute until reply + idle)', run: async () => (await direct.execute('1+1', { storeHistory: false }).done, {}) },
      {
        name: 'server, scratch, REST: `POST .../execute` (202) + `/kernels` until reply + idle',
        run: serverRoundTrip(async () => (await rest('POST', `/api/notebooks/${notebook.id}/execute`, { code: '1+1' })).execution_id as string, completed),
      },
      {
        name: 'server, cell, REST: `POST .../cells/:id/execute` (202) + `/kernels` until reply + idle',
        run: serverRoundTrip(async () => (await rest('POST', `/api/notebooks/${notebook.id}/cells/${onePlusOne}/execute`, {})).execution_id as string, completed),
      },
      { name: 'server, scratch, Socket.IO: `/kernels` `execute` (ack) until reply + idle', run: serverRoundTrip(() => execute({ code: '1+1' }), completed) },
      { name: 'server, cell, Socket.IO: `/kernels` `execute` (ack) until reply + idle', run: serverRoundTrip(() => execute({ cell_id: onePlusOne }), completed) },
    ];
    if (peer && peerChannels) {
      const { shipped, nodelay } = peerChannels;
      targets.push(
        { name: `peer: Jupyter Server ${peer.version}, kernel websocket, as shipped (Nagle on)`, run: async () => (await shipped.execute('1+1'), {}) },
        { name: `peer: Jupyter Server ${peer.version}, kernel websocket, TCP_NODELAY`, run: async () => (await nodelay.execute('1+1'), {}) },
      );
    }
    const samples = targets.map(() => ({ total: [] as number[], accepted: [] as number[] }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, target] of targets.entries()) await timeRoundTrips(target.run, ROUND_TRIPS, samples[i]);
    }

    // Throughput: one iopub stream message per line, counted at a Socket.IO subscriber; the same loop read directly.
    const printLoop = `for i in range(${LINES}):\n    print(i, flush=True)`;
    const directRun = await directThroughput(direct, printLoop);
    const peerRun = peerChannels ? await peerThroughput(peerChannels.nodelay, printLoop) : undefined;
    const printer = await cell(printLoop);
    const served = new StreamCount();
    const counter = (message: RawKernelMessage) => served.observe(message.msg_type, message.content);
    socket.on('message', counter);
    const rssBefore = rssBytes(pid);
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(pid))), 20);
    const positionBefore = headPosition(databasePath);
    const cpuBefore = cpuSeconds(pid);
    const start = performance.now();
    const executionId = await execute({ cell_id: printer });
    await completed(executionId);
    const end = performance.now();
    socket.off('message', counter);
    await finalWrite(url, token, notebook.id, positionBefore, executionId);
    const cpu = cpuSeconds(pid) - cpuBefore;
    const finalEnd = performance.now();
    clearInterval(sampler);
    const rssAfter = rssBytes(pid);
    const flushedPrint = storedBytes(databasePath, notebook.id, positionBefore);
    const printedBytes = Array.from({ length: LINES }, (_, i) => `${i}\n`).join('').length;

    const measureStorage = async (cellId: string) => {
      const before = headPosition(databasePath);
      const id = await execute({ cell_id: cellId });
      await completed(id);
      await finalWrite(url, token, notebook.id, before, id);
      return storedBytes(databasePath, notebook.id, before);
    };
    const batched = await measureStorage(await cell(`for i in range(${LINES}):\n    print(i)`));
    const image = await measureStorage(await cell(`import os\nfrom IPython.display import Image, display\ndisplay(Image(data=os.urandom(${IMAGE_BYTES}), format='png'))`));
    const imageBase64 = Math.ceil(IMAGE_BYTES / 3) * 4;

    // Capacity: the same subscriber path, fed by a kernel faster than ipykernel.
    const hoseBook = (await rest('POST', '/api/notebooks', { name: 'firehose.ipynb' })) as { id: string };
    const hoseKernel = (await rest('POST', `/api/notebooks/${hoseBook.id}/kernel`, { name: 'firehose' })) as { kernel: { id: string } };
    const hoseCell = ((await rest('POST', `/api/notebooks/${hoseBook.id}/cells`, { cell_type: 'code', source: String(FIREHOSE) })) as { cell: { id: string } }).cell.id;
    const hoseSocket = await connectSocket(url, '/kernels', token);
    sockets.push(hoseSocket);
    await hoseSocket.emitWithAck('subscribe', { kernel_id: hoseKernel.kernel.id });
    const hoseCompleted = completions(hoseSocket);
    const hoseRuns = [];
    for (let run = 0; run < ROUNDS; run++) {
      hoseRuns.push(await firehoseRun(hoseSocket, FIREHOSE, async () => {
        const ack = (await hoseSocket.emitWithAck('execute', { notebook_id: hoseBook.id, cell_id: hoseCell })) as { execution_id: string };
        return ack.execution_id;
      }, hoseCompleted, pid));
    }
    const hosePeakRss = rssBytes(pid);

    const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
    console.log(`## Kernels benchmark (${new Date().toISOString().slice(0, 10)})\n`);
    console.log(`- ${availableParallelism()} CPUs (${cpuModel}), Node ${process.version}, real ipykernel (python3)`);
    console.log('- server: a child process on a fresh SQLite data dir (WAL, synchronous=FULL, writer thread); clients and the direct peer in this process');
    console.log(peer ? `- peer: Jupyter Server ${peer.version} (child process, iopub rate limits off), its own ipykernels` : '- peer: Jupyter Server not installed (apt-get install -y python3-jupyter-server); its rows are left out');
    console.log(`- ${ROUNDS} interleaved rounds × ${ROUND_TRIPS} round trips per target (each after ${WARM_UP} warm-up); print loop of ${LINES.toLocaleString('en')} lines; image ${IMAGE_BYTES.toLocaleString('en')} random bytes\n`);
    console.log('| round trip of `1+1` | median ms | p95 ms | median overhead vs direct | median to the 202 / ack |');
    console.log('|---|---|---|---|---|');
    const directMedian = median(samples[0].total);
    for (const [i, target] of targets.entries()) {
      const { total, accepted } = samples[i];
      const overhead = i === 0 ? '-' : `${ms(median(total) - directMedian)} ms`;
      console.log(`| ${target.name} | ${ms(median(total))} | ${ms(p95(total))} | ${overhead} | ${accepted.length > 0 ? `${ms(median(accepted))} ms` : '-'} |`);
    }
    console.log(`\n| iopub throughput (\`print(i, flush=True)\` × ${LINES.toLocaleString('en')}), as the reader receives it | stream messages | lines received | messages/s (first to last) | % of direct |`);
    console.log('|---|---|---|---|---|');
    const reader = (name: string, count: StreamCount, note = '') =>
      console.log(`| ${name} | ${count.messages.toLocaleString('en')} | ${count.lines.toLocaleString('en')}${note} | ${Math.round(count.perSecond).toLocaleString('en')} | ${((count.perSecond / directRun.perSecond) * 100).toFixed(0)} % |`);
    reader('direct ZmqKernel', directRun);
    if (peerRun) reader('peer: Jupyter Server websocket (rate limits off)', peerRun, peerRun.idleLost ? ' (its idle status lost too)' : '');
    reader('Palimpsest: `/kernels` subscriber', served);
    console.log(`\n| Palimpsest's print loop cell | value |`);
    console.log('|---|---|');
    console.log(`| ack to idle / to the final notebook write | ${((end - start) / 1000).toFixed(2)} s / ${((finalEnd - start) / 1000).toFixed(2)} s |`);
    console.log(`| server CPU (user + system, all threads) per stream message, until the final write | ${((cpu / served.messages) * 1e6).toFixed(0)} µs |`);
    console.log(`| server RSS before / peak / after | ${mib(rssBefore)} / ${mib(peakRss)} / ${mib(rssAfter)} MiB |`);
    const rates = hoseRuns.map((run) => run.perSecond);
    console.log(`\n| iopub capacity (firehose kernel, ${FIREHOSE.toLocaleString('en')} stream messages per run, ${ROUNDS} runs) | value |`);
    console.log('|---|---|');
    console.log(`| messages/s delivered to the \`/kernels\` subscriber, median (min–max) | ${Math.round(median(rates)).toLocaleString('en')} (${Math.round(Math.min(...rates)).toLocaleString('en')}–${Math.round(Math.max(...rates)).toLocaleString('en')}) |`);
    console.log(`| server CPU (user + system, all threads) per message, median | ${(median(hoseRuns.map((run) => run.cpuPerMessage)) * 1e6).toFixed(0)} µs |`);
    console.log(`| server RSS after the runs | ${mib(hosePeakRss)} MiB |`);
    console.log('\n| bytes stored per output byte (payload + metadata of notebook and kernel events) | output bytes | events | stored bytes | ratio |');
    console.log('|---|---|---|---|---|');
    const ratio = (name: string, output: number, stored: { bytes: number; events: number }) =>
      console.log(`| ${name} | ${output.toLocaleString('en')} | ${stored.events.toLocaleString('en')} | ${stored.bytes.toLocaleString('en')} | ${(stored.bytes / output).toFixed(2)} |`);
    ratio(`print loop, ${LINES.toLocaleString('en')} lines, ipykernel batching (print(i))`, printedBytes, batched);
    ratio(`print loop, ${LINES.toLocaleString('en')} lines, one message per line (flush=True)`, printedBytes, flushedPrint);
    ratio(`image/png display_data (${IMAGE_BYTES.toLocaleString('en')} B raw = ${imageBase64.toLocaleString('en')} B base64)`, imageBase64, image);
  } finally {
    for (const socket of sockets) socket.disconnect();
    await direct.shutdown().catch(() => undefined);
    await peer?.stop();
    if (server) await stopGracefully(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
