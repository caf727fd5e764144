import { WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit } from '@nestjs/websockets';
import { TokenService, type Principal } from '@palimpsest/auth';
import { DomainError } from '@palimpsest/contracts';
import { randomUUID } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';
import { refusalOf, type CollabPeer, type UpdateChannel } from './collab-peer.js';
import { CollabRooms } from './collab-rooms.js';
import { socketAuthMiddleware, type Ack } from './socket-auth.js';

/** The dynamic namespaces `/yjs|<notebook_id>`, one per notebook. */
const YJS_NAMESPACE = /^\/yjs\|[^/]+$/;

/** The event that tells a client why something it sent was refused (the provider ignores it; other clients can listen). */
export const REFUSED_EVENT = 'update-refused';

interface YjsSocketData {
  principal: Principal;
  peer?: CollabPeer;
}

/** The notebook id of a `/yjs|<notebook_id>` namespace. */
function notebookIdOf(socket: Socket): string {
  return socket.nsp.name.slice('/yjs|'.length);
}

/** Binary payloads arrive as Buffer (Node) or ArrayBuffer; anything else is refused. */
function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new DomainError('BAD_REQUEST', 'a binary payload is required');
}

/** The Socket.IO room of a namespace's sockets that joined the collaboration room (and get its updates). */
const COLLABORATORS = 'collaborators';

/** The socket behind each Socket.IO peer. */
const socketIds = new WeakMap<CollabPeer, string>();

/** The update channel of a namespace: one broadcast to its collaborators on this node, encoded once by Socket.IO. */
const namespaceChannels = new WeakMap<Namespace, UpdateChannel>();
function channelOf(namespace: Namespace): UpdateChannel {
  let channel = namespaceChannels.get(namespace);
  if (!channel) {
    channel = {
      // `local`: other nodes fan out the same committed events to their own sockets from their own log tail.
      send: (update, except) => namespace.local.to(COLLABORATORS).except([...except].map((peer) => socketIds.get(peer) ?? '')).emit('sync-update', update),
    };
    namespaceChannels.set(namespace, channel);
  }
  return channel;
}

/** A connected SocketIOProvider as a room peer. */
function socketPeer(socket: Socket, principal: Principal): CollabPeer {
  const peer: CollabPeer = {
    clientId: randomUUID(),
    notebookId: notebookIdOf(socket),
    principal,
    transport: 'socket.io',
    updates: channelOf(socket.nsp),
    sendAwareness: (update) => void socket.emit('awareness-update', update),
    refuse: (reason) => void socket.emit(REFUSED_EVENT, reason),
  };
  socketIds.set(peer, socket.id);
  return peer;
}

/**
 * Socket.IO `/yjs|<notebook_id>`: the protocol of the `y-socket.io` package's SocketIOProvider
 * (`sync-step-1` with ack both ways, `sync-update`, `awareness-update`). The server answers the
 * client's `sync-step-1` first and only then sends its own, so the provider's `sync` event means
 * it holds the whole document.
 */
@WebSocketGateway({ namespace: YJS_NAMESPACE, cors: { origin: true } })
export class YjsSocketGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly tokens: TokenService,
    private readonly rooms: CollabRooms,
  ) {}

  afterInit(namespace: Namespace): void {
    namespace.use(socketAuthMiddleware(this.tokens, (socket, principal) => void ((socket.data as YjsSocketData).principal = principal)));
    namespace.use((socket, next) => {
      try {
        this.rooms.admit((socket.data as YjsSocketData).principal, notebookIdOf(socket));
        next();
      } catch (error) {
        const { error: code, message } = refusalOf(error);
        next(Object.assign(new Error(message), { data: { error: code, message } }));
      }
    });
  }

  handleConnection(socket: Socket): void {
    const data = socket.data as YjsSocketData;
    const peer = socketPeer(socket, data.principal);
    data.peer = peer;
    let askedBack = false;
    socket.on('sync-step-1', (stateVector: unknown, ack?: (update: Uint8Array) => void) => {
      this.answerStep1(peer, stateVector).then((answer) => {
        if (!answer) return;
        if (typeof ack === 'function') ack(answer.update);
        if (askedBack) return;
        askedBack = true;
        socket.emit('sync-step-1', answer.stateVector, (reply: unknown) => void this.receive(peer, reply, true));
      }, () => undefined);
    });
    socket.on('sync-update', (update: unknown, ack?: (response: Ack) => void) => {
      void this.receive(peer, update, false).then((response) => typeof ack === 'function' && ack(response));
    });
    socket.on('awareness-update', (update: unknown) => {
      try {
        this.rooms.receiveAwareness(peer, bytesOf(update));
      } catch (error) {
        peer.refuse(refusalOf(error));
      }
    });
    void socket.join(COLLABORATORS);
    this.rooms.join(peer);
  }

  handleDisconnect(socket: Socket): void {
    const peer = (socket.data as Partial<YjsSocketData>).peer;
    if (peer) this.rooms.leave(peer);
  }

  private async answerStep1(peer: CollabPeer, stateVector: unknown): Promise<{ update: Uint8Array; stateVector: Uint8Array } | null> {
    try {
      return await this.rooms.syncStep1(peer, bytesOf(stateVector));
    } catch (error) {
      peer.refuse(refusalOf(error));
      return null;
    }
  }

  private receive(peer: CollabPeer, update: unknown, syncReply: boolean): Promise<Ack> {
    let bytes: Uint8Array;
    try {
      bytes = bytesOf(update);
    } catch (error) {
      const ack = refusalOf(error);
      peer.refuse(ack);
      return Promise.resolve(ack);
    }
    return syncReply ? this.rooms.receiveSyncReply(peer, bytes) : this.rooms.receiveUpdate(peer, bytes);
  }
}
