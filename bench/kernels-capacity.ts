/**
 * iopub capacity alone: the capacity phase of bench/kernels.ts (the firehose kernel publishing stream messages
 * as fast as its socket takes them, every one verified, logged, folded into its cell and relayed), on a fresh
 * server with nothing run before it, and with SUBSCRIBERS `/kernels` subscribers instead of one. The rate is the
 * first subscriber's; every subscriber must receive every message. Quicker than the whole kernels benchmark, for
 * before/after comparisons of the iopub path.
 *
 *   node --import ./test/support/register-swc.mjs bench/kernels-capacity.ts
 *   (FIREHOSE messages per run, RUNS, SUBSCRIBERS override the defaults 50,000, 5, 1)
 */
import type { RawKernelMessage } from '@palimpsest/kernels';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { startChildServer, type ChildServer } from '../test/support/child-server.js';
import { connectSocket } from '../test/support/kernel-clients.js';
import { TEST_SECRET } from '../test/support/test-secret.js';
import { firehoseRun, writeFirehoseSpec } from './firehose-capacity.js';
import { completions, executeOver, median, restClient, stopGracefully } from './kernel-round-trips.js';
import { rssBytes } from './process-stats.js';

const FIREHOSE = Number(process.env.FIREHOSE ?? 50_000);
const RUNS = Number(process.env.RUNS ?? 5);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'palimpsest-bench-capacity-'));
  let server: ChildServer | undefined;
  const sockets: Socket[] = [];
  try {
    const jupyterPath = join(dataDir, 'jupyter');
    writeFirehoseSpec(jupyterPath);
    server = await startChildServer(dataDir, { LOG_LEVEL: 'error', JUPYTER_PATH: jupyterPath });
    const pid = server.child.pid!;
    const auth = await fetch(`${server.url}/api/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: TEST_SECRET, user: 'bench' }) });
    const token = ((await auth.json()) as { access_token: string }).access_token;
    const rest = restClient(server.url, token);
    const notebook = (await rest('POST', '/api/notebooks', { name: 'firehose.ipynb' })) as { id: string };
    const kernel = (await rest('POST', `/api/notebooks/${notebook.id}/kernel`, { name: 'firehose' })) as { kernel: { id: string } };
    const cell = ((await rest('POST', `/api/notebooks/${notebook.id}/cells`, { cell_type: 'code', source: String(FIREHOSE) })) as { cell: { id: string } }).cell.id;
    const received: number[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const socket = await connectSocket(server.url, '/kernels', token);
      sockets.push(socket);
      await socket.emitWithAck('subscribe', { kernel_id: kernel.kernel.id });
      received.push(0);
      socket.on('message', (message: RawKernelMessage) => void (message.msg_type === 'stream' && received[i]++));
    }
    const [first] = sockets;
    const completed = completions(first);
    const runs = [];
    for (let run = 0; run < RUNS; run++) {
      runs.push(await firehoseRun(first, FIREHOSE, () => executeOver(first, notebook.id, { cell_id: cell }), completed, pid));
    }
    const rss = rssBytes(pid);
    // Every subscriber's count, once the others have caught up with the first (the server sends to all alike).
    const expected = FIREHOSE * RUNS;
    await Promise.all(
      sockets.map((socket, i) =>
        received[i] >= expected ? Promise.resolve() : new Promise<void>((resolve) => socket.on('message', () => received[i] >= expected && resolve())),
      ),
    );

    const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
    const rates = runs.map((run) => run.perSecond);
    console.log(`## iopub capacity (${new Date().toISOString().slice(0, 10)})\n`);
    console.log(`- ${availableParallelism()} CPUs (${cpuModel}), Node ${process.version}; server: a child process on a fresh SQLite data dir (WAL, synchronous=FULL, writer thread)`);
    console.log(`- firehose kernel (bench/firehose-kernel.ts), ${RUNS} runs of ${FIREHOSE.toLocaleString('en')} stream messages; ${SUBSCRIBERS} \`/kernels\` subscriber(s) in this process, every one receiving all ${expected.toLocaleString('en')}\n`);
    console.log('| value | median (min–max) |');
    console.log('|---|---|');
    console.log(`| messages/s at the first subscriber | ${Math.round(median(rates)).toLocaleString('en')} (${Math.round(Math.min(...rates)).toLocaleString('en')}–${Math.round(Math.max(...rates)).toLocaleString('en')}) |`);
    console.log(`| server CPU (user + system, all threads) per message | ${(median(runs.map((run) => run.cpuPerMessage)) * 1e6).toFixed(0)} µs |`);
    console.log(`| server RSS after the runs | ${(rss / 1024 / 1024).toFixed(1)} MiB |`);
  } finally {
    for (const socket of sockets) socket.disconnect();
    if (server) await stopGracefully(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
