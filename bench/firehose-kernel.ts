/**
 * A minimal Jupyter kernel for measuring the server's iopub capacity beyond what ipykernel can emit.
 * It speaks the real wire protocol over ZeroMQ (HMAC-signed, connection file from argv): kernel_info,
 * heartbeat, shutdown, and execute_request whose code is a number N: it publishes N `stream` messages
 * (`0\n`, `1\n`, ...) as fast as its socket takes them, then replies and goes idle. Not a test double:
 * the server launches it from a kernelspec and treats it as any kernel.
 *
 * Usage (as a kernelspec argv): node --import ./test/support/register-swc.mjs bench/firehose-kernel.ts {connection_file}
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Publisher, Reply, Router } from 'zeromq';
import { createMessage, DELIMITER, WireCodec, type Channel, type JupyterMessage, type MessageOrigin } from '@palimpsest/kernels';

interface Connection {
  ip: string;
  transport: string;
  key: string;
  shell_port: number;
  control_port: number;
  stdin_port: number;
  iopub_port: number;
  hb_port: number;
}

const info = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Connection;
const address = (port: number) => `${info.transport}://${info.ip}:${port}`;
const codec = new WireCodec(info.key);
const origin: MessageOrigin = { session: randomUUID(), username: 'firehose' };
const options = { linger: 0, sendHighWaterMark: 0 } as const;
const shell = new Router({ ...options, receiveHighWaterMark: 0 });
const control = new Router({ ...options, receiveHighWaterMark: 0 });
const stdin = new Router({ ...options, receiveHighWaterMark: 0 });
const iopub = new Publisher({ ...options });
const heartbeat = new Reply();
// Referenced from `shutDown`, so none of them is garbage collected (and closed) while the kernel runs:
// a socket only the top-level code referenced was, now and then, before its first peer connected.
const sockets = [shell, control, stdin, iopub, heartbeat];
let executionCount = 0;

function shutDown(): never {
  for (const socket of sockets) socket.close();
  process.exit(0);
}

const publish = (msgType: string, content: Record<string, unknown>, parent: JupyterMessage) =>
  iopub.send(codec.encode(createMessage(origin, 'iopub', msgType, content, { parent })));

const reply = (socket: Router, identities: Buffer[], channel: Channel, msgType: string, content: Record<string, unknown>, parent: JupyterMessage) =>
  socket.send([...identities, ...codec.encode(createMessage(origin, channel, msgType, content, { parent }))]);

async function execute(identities: Buffer[], request: JupyterMessage): Promise<void> {
  const lines = Number.parseInt(String((request.content as { code?: unknown }).code), 10) || 0;
  executionCount += 1;
  await publish('execute_input', { code: (request.content as { code?: unknown }).code, execution_count: executionCount }, request);
  for (let i = 0; i < lines; i++) await publish('stream', { name: 'stdout', text: `${i}\n` }, request);
  await reply(shell, identities, 'shell', 'execute_reply', { status: 'ok', execution_count: executionCount, user_expressions: {}, payload: [] }, request);
}

async function serve(socket: Router, channel: Channel): Promise<void> {
  for await (const frames of socket) {
    const at = frames.findIndex((frame) => frame.toString() === DELIMITER);
    const identities = frames.slice(0, at);
    const request = codec.decode(channel, frames);
    if (!request) continue;
    await publish('status', { execution_state: 'busy' }, request);
    switch (request.header.msg_type) {
      case 'kernel_info_request':
        await reply(socket, identities, channel, 'kernel_info_reply', {
          status: 'ok',
          protocol_version: '5.3',
          implementation: 'firehose',
          implementation_version: '1.0',
          language_info: { name: 'text', version: '1.0', mimetype: 'text/plain', file_extension: '.txt' },
          banner: 'firehose benchmark kernel',
        }, request);
        break;
      case 'execute_request':
        await execute(identities, request);
        break;
      case 'shutdown_request':
        await reply(socket, identities, channel, 'shutdown_reply', { status: 'ok', restart: false }, request);
        await publish('status', { execution_state: 'idle' }, request);
        shutDown();
        break;
      default:
        break;
    }
    await publish('status', { execution_state: 'idle' }, request);
  }
}

async function echoHeartbeats(): Promise<void> {
  for await (const frames of heartbeat) await heartbeat.send(frames);
}

await Promise.all([
  shell.bind(address(info.shell_port)),
  control.bind(address(info.control_port)),
  stdin.bind(address(info.stdin_port)),
  iopub.bind(address(info.iopub_port)),
  heartbeat.bind(address(info.hb_port)),
]);
void serve(shell, 'shell');
void serve(control, 'control');
void echoHeartbeats();
