import { afterEach, describe, expect, it } from 'vitest';
import { Publisher, Router, type Socket } from 'zeromq';
import { allocateConnection, endpoint } from './connection.file.js';
import { createMessage } from './message.factory.js';
import type { JupyterMessage } from './message.types.js';
import { WireCodec } from './wire.codec.js';
import { ZmqKernelConnection } from './zmq.connection.js';

/** Resolves once a kernel-side socket has completed a ZMTP handshake with a client. */
function handshakeOn(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.events.on('handshake', () => resolve()));
}

describe(ZmqKernelConnection.name, () => {
  const closing: Array<{ close(): unknown }> = [];
  afterEach(async () => {
    for (const closable of closing.splice(0)) await closable.close();
  });

  it('is handshaken only once stdin is connected too, so the kernel can route an input_request to it', async () => {
    const info = await allocateConnection('python3');
    // The kernel side, but stdin is bound late (as a kernel whose stdin socket comes up last).
    const [shell, control, stdin] = [new Router({ linger: 0 }), new Router({ linger: 0 }), new Router({ linger: 0, mandatory: true })];
    const iopub = new Publisher({ linger: 0 });
    closing.push(shell, control, stdin, iopub);
    const connected = [handshakeOn(shell), handshakeOn(control)];
    await Promise.all([shell.bind(endpoint(info, info.shell_port)), control.bind(endpoint(info, info.control_port)), iopub.bind(endpoint(info, info.iopub_port))]);

    const received: JupyterMessage[] = [];
    const connection = new ZmqKernelConnection(info, 'client-identity', (message) => received.push(message), () => undefined);
    closing.push({ close: () => connection.disconnect() });
    let handshaken = false;
    void connection.handshaken.then(() => (handshaken = true));
    await connection.connect();
    await Promise.all(connected);
    expect(handshaken).toBe(false);

    const stdinConnected = handshakeOn(stdin);
    await stdin.bind(endpoint(info, info.stdin_port));
    await Promise.all([connection.handshaken, stdinConnected]);
    // ROUTER_MANDATORY: a send to an identity the kernel does not know yet fails instead of being dropped.
    const request = createMessage({ session: 'kernel', username: 'kernel' }, 'stdin', 'input_request', { prompt: '? ', password: false });
    await stdin.send([Buffer.from('client-identity'), ...new WireCodec(info.key).encode(request)]);
    await expect.poll(() => received.map((message) => message.header.msg_type)).toEqual(['input_request']);
  });
});
