import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TokenService, type Principal } from '@palimpsest/auth';
import type { IncomingMessage, Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ERROR_STATUS, DomainError } from '@palimpsest/contracts';
import { refusalOf, type CollabPeer } from './collab-peer.js';
import { CollabRooms } from './collab-rooms.js';
import { awarenessMessage, decodeClientMessage, deniedMessage, syncMessage } from './y-websocket-messages.js';

/** `/yjs/<notebook_id>`: the path of the plain WebSocket endpoint (Socket.IO keeps `/socket.io/`). */
const PATH = /^\/yjs\/([^/]+)$/;

function bytesOf(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Answers a refused upgrade with the contract's error body, then closes the socket. */
function refuseUpgrade(socket: Duplex, error: unknown): void {
  const { error: code, message } = refusalOf(error);
  const body = JSON.stringify({ error: code, message });
  const status = ERROR_STATUS[code as keyof typeof ERROR_STATUS] ?? 500;
  socket.end(`HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The sync frame of a committed update, encoded once however many peers it goes to: fan-out hands
 * every peer of a room the same update object.
 */
const updateFrames = new WeakMap<Uint8Array, Uint8Array>();
function updateFrame(update: Uint8Array): Uint8Array {
  let frame = updateFrames.get(update);
  if (!frame) updateFrames.set(update, (frame = syncMessage(messageYjsUpdate, update)));
  return frame;
}

/** A connected WebsocketProvider as a room peer. */
function webSocketPeer(ws: WebSocket, notebookId: string, principal: Principal): CollabPeer {
  const send = (data: Uint8Array): void => {
    if (ws.readyState === ws.OPEN) ws.send(data);
  };
  const peer: CollabPeer = {
    clientId: randomUUID(),
    notebookId,
    principal,
    transport: 'websocket',
    updates: { send: (update, except) => void (except.has(peer) || send(updateFrame(update))) },
    sendAwareness: (update) => send(awarenessMessage(update)),
    refuse: (reason) => send(deniedMessage(`${reason.error}: ${reason.message}`)),
  };
  return peer;
}

/**
 * Plain WebSocket `/yjs/<notebook_id>?token=...` speaking y-websocket's protocol (y-protocols sync and
 * awareness), so `y-websocket`'s WebsocketProvider connects unchanged. Same auth, rooms and durability
 * as Socket.IO; refusals travel as permission-denied auth messages.
 */
@Injectable()
export class YjsWebSocketServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly wss = new WebSocketServer({ noServer: true });
  private httpServer?: Server;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly tokens: TokenService,
    private readonly rooms: CollabRooms,
  ) {}

  onApplicationBootstrap(): void {
    this.httpServer = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.httpServer.on('upgrade', this.onUpgrade);
  }

  onModuleDestroy(): void {
    this.httpServer?.off('upgrade', this.onUpgrade);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (!match) return;
    const notebookId = decodeURIComponent(match[1]);
    this.tokens
      .verify(url.searchParams.get('token'))
      .then((principal) => {
        this.rooms.admit(principal, notebookId);
        this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, socket, notebookId, principal));
      })
      .catch((error: unknown) => refuseUpgrade(socket, error));
  };

  private accept(ws: WebSocket, socket: Duplex, notebookId: string, principal: Principal): void {
    (socket as Duplex & { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    const peer = webSocketPeer(ws, notebookId, principal);
    let askedBack = false;
    ws.on('message', (data: RawData) => {
      let message;
      try {
        message = decodeClientMessage(bytesOf(data));
      } catch {
        return peer.refuse(refusalOf(new DomainError('BAD_REQUEST', 'malformed y-websocket message')));
      }
      switch (message.kind) {
        case 'sync-step-1':
          this.rooms.syncStep1(peer, message.stateVector).then(
            (answer) => {
              ws.send(syncMessage(messageYjsSyncStep2, answer.update));
              if (!askedBack) ws.send(syncMessage(messageYjsSyncStep1, answer.stateVector));
              askedBack = true;
            },
            (error: unknown) => peer.refuse(refusalOf(error)),
          );
          return;
        case 'sync-step-2':
          return void this.rooms.receiveSyncReply(peer, message.update);
        case 'update':
          return void this.rooms.receiveUpdate(peer, message.update);
        case 'awareness':
          return void this.rooms.receiveAwareness(peer, message.update);
        case 'query-awareness': {
          const states = this.rooms.awarenessOf(peer);
          if (states) ws.send(awarenessMessage(states));
          return;
        }
      }
    });
    ws.on('close', () => this.rooms.leave(peer));
    this.rooms.join(peer);
  }
}
