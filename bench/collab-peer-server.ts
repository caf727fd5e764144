/**
 * A peer Yjs server for bench/collab.ts, one per child process, on 127.0.0.1 and a free port:
 *   hocuspocus   `@hocuspocus/server` with no extension (so no persistence: nothing is ever stored)
 *   y-websocket  y-websocket 1.5.4's `bin/utils` `setupWSConnection` on a `ws` server, as its `bin/server.js`
 *                does (no YPERSISTENCE, no CALLBACK_URL: in memory only)
 * Prints `listening <port>` once it accepts connections; exits when its parent is gone.
 *
 *   node --import ./test/support/register-swc.mjs bench/collab-peer-server.ts hocuspocus|y-websocket
 */
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { WebSocketServer, type WebSocket } from 'ws';
import { exitWithParent } from '../test/support/exit-with-parent.js';

exitWithParent();

/** Starts Hocuspocus with its defaults (debounced store hooks, none registered). */
async function hocuspocus(): Promise<number> {
  // Imported only here: y-websocket 1.x loads yjs as CommonJS, Hocuspocus as ESM, and one process must hold one yjs.
  const { Server } = await import('@hocuspocus/server');
  const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: false });
  await server.listen();
  return server.address.port;
}

/** Starts the y-websocket 1.x reference server logic. */
function yWebsocket(): Promise<number> {
  const require = createRequire(import.meta.url);
  const { setupWSConnection } = require('y-websocket-v1/bin/utils') as { setupWSConnection(ws: WebSocket, request: IncomingMessage): void };
  const http = createServer((_request, response) => response.end('okay'));
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', setupWSConnection);
  http.on('upgrade', (request: IncomingMessage, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)));
  return new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve((http.address() as { port: number }).port)));
}

const kind = process.argv[2];
if (kind !== 'hocuspocus' && kind !== 'y-websocket') throw new Error(`unknown peer ${kind}; expected hocuspocus or y-websocket`);
const port = kind === 'hocuspocus' ? await hocuspocus() : await yWebsocket();
process.stdout.write(`listening ${port}\n`);
