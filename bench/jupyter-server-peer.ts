/**
 * Jupyter Server (Debian's python3-jupyter-server, 1.23) as the peer of bench/kernels.ts: its child process
 * (bench/jupyter-server-peer.py), kernels started through its REST API and spoken to over its kernel websocket
 * (`/api/kernels/:id/channels`, JSON messages with a `channel` field), as JupyterLab speaks to it.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startListeningProcess, type ChildServer } from '../test/support/child-server.js';
import { stopGracefully } from './kernel-round-trips.js';

/** The Python that runs the peer (it needs `jupyter_server` importable). */
const PYTHON = process.env.JUPYTER_SERVER_PYTHON ?? '/usr/bin/python3';

/** A message as Jupyter Server's kernel websocket carries it (JSON, with the channel it came from). */
export interface WebsocketKernelMessage {
  channel: string;
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, unknown>;
}

/** How long an execution whose reply is in waits for its idle status before counting it lost (Jupyter Server drops iopub messages when it falls behind). */
const IDLE_AFTER_REPLY_MS = 10_000;

/** One kernel websocket: executions that resolve on their reply and idle status, and every message seen. */
export interface JupyterChannels {
  /**
   * Sends an execute_request; resolves once its execute_reply and its idle status have both arrived, or
   * with `idleLost` when the idle status has not come 10 s after the reply.
   */
  execute(code: string): Promise<{ idleLost: boolean }>;
  /** Calls `listener` with every message of the websocket; answers a function that stops it. */
  onMessage(listener: (message: WebsocketKernelMessage) => void): () => void;
}

/** A running Jupyter Server peer. */
export interface JupyterServerPeer {
  /** The server's version, as it reports it on `/api`. */
  version: string;
  /** Starts a python3 kernel and opens its websocket, with Nagle's algorithm on (as shipped) or off. */
  kernel(options: { nodelay: boolean }): Promise<JupyterChannels>;
  stop(): Promise<void>;
}

/** Whether this machine can run the peer (Debian: `apt-get install -y python3-jupyter-server`). */
export function jupyterServerInstalled(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import jupyter_server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts the peer with its own Jupyter dirs (no user config) and rate limits off. */
export async function startJupyterServer(): Promise<JupyterServerPeer> {
  const home = mkdtempSync(join(tmpdir(), 'palimpsest-bench-jupyter-server-'));
  const token = randomUUID();
  const env = { ...process.env, JUPYTER_CONFIG_DIR: join(home, 'config'), JUPYTER_RUNTIME_DIR: join(home, 'runtime'), JUPYTER_DATA_DIR: join(home, 'data') };
  let server: ChildServer;
  try {
    server = await startListeningProcess(PYTHON, ['bench/jupyter-server-peer.py', token, home], env);
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `token ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!response.ok) throw new Error(`Jupyter Server ${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const { version } = (await api('GET', '/api')) as { version: string };
  const sockets: WebSocket[] = [];
  return {
    version,
    async kernel({ nodelay }) {
      const { id } = (await api('POST', '/api/kernels', { name: 'python3' })) as { id: string };
      const url = `${server.url.replace('http', 'ws')}/api/kernels/${id}/channels?session_id=${randomUUID()}&token=${token}&nodelay=${nodelay ? 1 : 0}`;
      const socket = new WebSocket(url);
      sockets.push(socket);
      const channels = openChannels(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      await channels.execute('pass'); // the kernel is ready once it has run something
      return channels;
    },
    async stop() {
      for (const socket of sockets) socket.close();
      await stopGracefully(server); // SIGTERM: Jupyter Server shuts its kernels down
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Jupyter's execute round trip over a kernel websocket. */
function openChannels(socket: WebSocket): JupyterChannels {
  const session = randomUUID();
  const listeners = new Set<(message: WebsocketKernelMessage) => void>();
  const pending = new Map<string, { replied: boolean; idle: boolean; finish: (idleLost: boolean) => void }>();
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as WebsocketKernelMessage;
    for (const listener of listeners) listener(message);
    const waiter = pending.get(message.parent_header.msg_id ?? '');
    if (!waiter) return;
    if (message.header.msg_type === 'execute_reply') waiter.replied = true;
    else if (message.header.msg_type === 'status' && message.content.execution_state === 'idle') waiter.idle = true;
    else return;
    if (waiter.idle && waiter.replied) waiter.finish(false);
    else if (waiter.replied) setTimeout(() => waiter.finish(true), IDLE_AFTER_REPLY_MS).unref();
  });
  return {
    execute(code) {
      const msgId = randomUUID();
      const header = { msg_id: msgId, msg_type: 'execute_request', session, username: 'bench', version: '5.3', date: new Date().toISOString() };
      const content = { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true };
      return new Promise((resolve) => {
        const finish = (idleLost: boolean) => {
          if (pending.delete(msgId)) resolve({ idleLost });
        };
        pending.set(msgId, { replied: false, idle: false, finish });
        socket.send(JSON.stringify({ channel: 'shell', header, parent_header: {}, metadata: {}, content, buffers: [] }));
      });
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
