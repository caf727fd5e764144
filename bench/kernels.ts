/**
 * Kernels benchmark, real ipykernel: round trip of `1+1` through the server (REST 202, then Socket.IO
 * `/kernels` until execute_reply and idle) against a direct ZmqKernel in the same run; iopub throughput
 * of a cell printing LINES lines (default 30,000; one message per line: print(..., flush=True)) delivered to a Socket.IO
 * subscriber, with the server's memory; and bytes stored in the log per output byte. Prints the setup
 * and markdown tables.
 *
 *   node --import ./test/support/register-swc.mjs bench/kernels.ts
 */
import 'reflect-metadata';
import { EventStore } from '@palimpsest/event-store';
import { discoverKernelSpecs, ZmqKernel, type RawKernelMessage } from '@palimpsest/kernels';
import { cpus } from 'node:os';
import type { Socket } from 'socket.io-client';
import { connectSocket } from '../test/support/kernel-clients.js';
import { startTestServer, type TestServer } from '../test/support/test-server.js';

const ROUND_TRIPS = Number(process.env.ROUND_TRIPS ?? 300);
const LINES = Number(process.env.LINES ?? 30_000);
const IMAGE_BYTES = Number(process.env.IMAGE_BYTES ?? 1024 * 1024);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)];
const ms = (value: number) => value.toFixed(2);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** REST helper over fetch with a bearer token. */
function restClient(server: TestServer, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
  };
}

/** Waits, per execution id, for both its execute_reply and its idle status on a `/kernels` socket (messages may beat the REST reply). */
function completions(socket: Socket) {
  const seen = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  // A kernel that dies mid-run never sends the reply: fail the run instead of waiting forever.
  socket.on('status', (status: { execution_state: string }) => {
    if (status.execution_state === 'dead') throw new Error('the kernel died during the benchmark');
  });
  socket.on('message', (message: RawKernelMessage) => {
    const parent = message.parent_header.msg_id as string | undefined;
    if (!parent) return;
    const done = message.msg_type === 'execute_reply' || (message.msg_type === 'status' && message.content.execution_state === 'idle');
    if (!done) return;
    const count = (seen.get(parent) ?? 0) + 1;
    seen.set(parent, count);
    if (count === 2) waiters.get(parent)?.();
  });
  return (executionId: string) =>
    seen.get(executionId) === 2 ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(executionId, resolve));
}

async function directRoundTrips(): Promise<number[]> {
  const spec = discoverKernelSpecs().kernelspecs.python3.spec;
  const kernel = new ZmqKernel({ name: 'python3', spec });
  await kernel.start();
  const times: number[] = [];
  try {
    for (let i = 0; i < 20; i++) await kernel.execute('1+1', { storeHistory: false }).done;
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const start = performance.now();
      await kernel.execute('1+1', { storeHistory: false }).done;
      times.push(performance.now() - start);
    }
  } finally {
    await kernel.shutdown();
  }
  return times;
}

/** Round trips through the server; `accepted` collects the time to the 202 alone. */
async function serverRoundTrips(rest: ReturnType<typeof restClient>, socket: Socket, path: string, body: unknown, accepted: number[] = []): Promise<number[]> {
  const completed = completions(socket);
  const times: number[] = [];
  for (let i = 0; i < 20 + ROUND_TRIPS; i++) {
    const start = performance.now();
    const { execution_id } = (await rest('POST', path, body)) as { execution_id: string };
    const answered = performance.now() - start;
    await completed(execution_id);
    if (i < 20) continue;
    times.push(performance.now() - start);
    accepted.push(answered);
  }
  return times;
}

/** Bytes the log holds for a notebook's events (its own and its kernels') after a position: payload plus metadata. */
async function storedBytes(store: EventStore, notebookId: string, after: number): Promise<{ bytes: number; events: number }> {
  let bytes = 0;
  let events = 0;
  for (let cursor = after; ; ) {
    const page = await store.read({ notebookId, after: cursor, limit: 5000 });
    for (const event of page) {
      bytes += event.payload.encoding === 'yjs' ? event.payload.bytes.byteLength : Buffer.byteLength(JSON.stringify(event.payload.json));
      bytes += Buffer.byteLength(JSON.stringify(event.metadata));
    }
    events += page.length;
    if (page.length < 5000) return { bytes, events };
    cursor = page[page.length - 1].position;
  }
}

async function main(): Promise<void> {
  const server = await startTestServer({ logLevel: (process.env.LOG_LEVEL as 'warn' | undefined) ?? 'error' });
  const store = server.app.get(EventStore);
  try {
    const rest = restClient(server, await server.token('bench'));
    const notebook = (await rest('POST', '/api/notebooks', { name: 'bench.ipynb' })) as { id: string };
    const cell = async (source: string) => ((await rest('POST', `/api/notebooks/${notebook.id}/cells`, { cell_type: 'code', source })) as { cell: { id: string } }).cell.id;
    const kernel = (await rest('POST', `/api/notebooks/${notebook.id}/kernel`, { name: 'python3' })) as { kernel: { id: string } };
    const socket = await connectSocket(server.url, '/kernels', await server.token('bench'));
    await socket.emitWithAck('subscribe', { kernel_id: kernel.kernel.id });

    const direct = await directRoundTrips();
    const scratchAccepted: number[] = [];
    const scratch = await serverRoundTrips(rest, socket, `/api/notebooks/${notebook.id}/execute`, { code: '1+1' }, scratchAccepted);
    const onePlusOne = await cell('1+1');
    const cellRuns = await serverRoundTrips(rest, socket, `/api/notebooks/${notebook.id}/cells/${onePlusOne}/execute`, {});

    // Throughput: one iopub stream message per line, counted at a Socket.IO subscriber.
    const printer = await cell(`for i in range(${LINES}):\n    print(i, flush=True)`);
    let streams = 0;
    let first = 0;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const counter = (message: RawKernelMessage) => {
      if (message.msg_type !== 'stream') return;
      if (streams++ === 0) first = performance.now();
    };
    socket.on('message', counter);
    const rssBefore = process.memoryUsage().rss;
    const positionBefore = await store.headPosition();
    const completed = completions(socket);
    const start = performance.now();
    const { execution_id } = (await rest('POST', `/api/notebooks/${notebook.id}/cells/${printer}/execute`, {})) as { execution_id: string };
    await completed(execution_id);
    const end = performance.now();
    socket.off('message', counter);
    await store.settled();
    // The notebook's final write comes after idle; wait for it through the events API rather than a delay.
    await waitForFinalWrite(store, notebook.id, execution_id);
    clearInterval(sampler);
    const flushedPrint = await storedBytes(store, notebook.id, positionBefore);
    const printedBytes = Array.from({ length: LINES }, (_, i) => `${i}\n`).join('').length;

    const batchedCell = await cell(`for i in range(${LINES}):\n    print(i)`);
    const batched = await measureStorage(rest, store, notebook.id, batchedCell, socket);
    const imageCell = await cell(`import os\nfrom IPython.display import Image, display\ndisplay(Image(data=os.urandom(${IMAGE_BYTES}), format='png'))`);
    const image = await measureStorage(rest, store, notebook.id, imageCell, socket);
    const imageBase64 = Math.ceil(IMAGE_BYTES / 3) * 4;

    console.log(`## Kernels benchmark (${new Date().toISOString().slice(0, 10)})\n`);
    console.log(`- ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, SQLite log, real ipykernel (python3)`);
    console.log(`- ${ROUND_TRIPS} round trips per row after 20 warm-up; print loop of ${LINES.toLocaleString('en')} lines; image ${IMAGE_BYTES.toLocaleString('en')} random bytes\n`);
    console.log('| round trip of `1+1` | median ms | p95 ms | median overhead vs direct |');
    console.log('|---|---|---|---|');
    const row = (name: string, times: number[]) => console.log(`| ${name} | ${ms(median(times))} | ${ms(p95(times))} | ${name.startsWith('direct') ? '-' : `${ms(median(times) - median(direct))} ms`} |`);
    row('direct ZmqKernel (execute until reply + idle)', direct);
    row('server, scratch: REST POST .../execute (202) + /kernels until reply + idle', scratch);
    row('server, cell: REST POST .../cells/:id/execute (202) + /kernels until reply + idle', cellRuns);
    console.log(`\n(of the scratch round trip, the REST 202 alone: median ${ms(median(scratchAccepted))} ms, p95 ${ms(p95(scratchAccepted))} ms)`);
    console.log('\n| iopub throughput (print(i, flush=True) loop) | value |');
    console.log('|---|---|');
    console.log(`| stream messages delivered to the /kernels subscriber | ${streams.toLocaleString('en')} |`);
    console.log(`| messages/s (first stream message to idle) | ${Math.round(streams / ((end - first) / 1000)).toLocaleString('en')} |`);
    console.log(`| whole cell, REST to idle | ${((end - start) / 1000).toFixed(2)} s |`);
    console.log(`| server RSS before / peak / after the final notebook write | ${mb(rssBefore)} / ${mb(peakRss)} / ${mb(process.memoryUsage().rss)} MiB |`);
    console.log('\n| bytes stored per output byte (payload + metadata of notebook and kernel events) | output bytes | events | stored bytes | ratio |');
    console.log('|---|---|---|---|---|');
    const ratio = (name: string, output: number, stored: { bytes: number; events: number }) =>
      console.log(`| ${name} | ${output.toLocaleString('en')} | ${stored.events.toLocaleString('en')} | ${stored.bytes.toLocaleString('en')} | ${(stored.bytes / output).toFixed(2)} |`);
    ratio(`print loop, ${LINES.toLocaleString('en')} lines, ipykernel batching (print(i))`, printedBytes, batched);
    ratio(`print loop, ${LINES.toLocaleString('en')} lines, one message per line (flush=True)`, printedBytes, flushedPrint);
    ratio(`image/png display_data (${IMAGE_BYTES.toLocaleString('en')} B raw = ${imageBase64.toLocaleString('en')} B base64)`, imageBase64, image);
    socket.disconnect();
  } finally {
    await server.stop();
  }
}

/** Runs a cell and answers the bytes its execution left in the log. */
async function measureStorage(rest: ReturnType<typeof restClient>, store: EventStore, notebookId: string, cellId: string, socket: Socket) {
  const completed = completions(socket);
  const before = await store.headPosition();
  const { execution_id } = (await rest('POST', `/api/notebooks/${notebookId}/cells/${cellId}/execute`, {})) as { execution_id: string };
  await completed(execution_id);
  await waitForFinalWrite(store, notebookId, execution_id);
  return storedBytes(store, notebookId, before);
}

/** Resolves once the notebook event that ends the execution (the projector's last write) is committed. */
function waitForFinalWrite(store: EventStore, notebookId: string, executionId: string): Promise<void> {
  return new Promise((resolve) => {
    const subscription = store.subscribe(
      { notebookId, types: ['notebook.doc.updated', 'notebook.cell.outputs_changed', 'notebook.cell.execution_changed'] },
      {
        onEvents: (events) => {
          if (!events.some((e) => e.metadata.execution_id === executionId && ['ok', 'error', 'aborted'].includes(String(e.metadata.execution_status)))) return;
          subscription.close();
          resolve();
        },
      },
    );
  });
}

await main();

