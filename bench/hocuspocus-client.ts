/**
 * The smallest Hocuspocus 3 client that behaves like `@hocuspocus/provider` on the wire (the provider is not
 * installed; this follows `@hocuspocus/server`'s `ClientConnection`, `MessageReceiver` and `OutgoingMessage`):
 * every frame starts with the document name (varString) and a message type (varUint); the server queues
 * everything until an Auth/Token message, then answers y-protocols sync (step 1, step 2, update) and
 * awareness. The client sends Auth, SyncStep1 and its awareness state on open, its updates as Sync/Update,
 * replies to the server's SyncStep1 with SyncStep2, relays awareness changes (including the Awareness
 * class's 15 s renewal, as every provider does) and removes its awareness state when destroyed.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import { messageYjsSyncStep2, readSyncMessage, writeSyncStep1, writeUpdate } from 'y-protocols/sync';
import { WebSocket, type RawData } from 'ws';
import * as Y from 'yjs';

/** Hocuspocus message types (`MessageType` of @hocuspocus/server 3). */
const MESSAGE = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3, syncReply: 4 } as const;
/** Auth sub-types (`AuthMessageType` of @hocuspocus/common). */
const AUTH = { token: 0, permissionDenied: 1 } as const;

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] };

/** A Y.Doc synced with one document of a Hocuspocus server over its own WebSocket. */
export class HocuspocusClient {
  readonly awareness: Awareness;
  private readonly ws: WebSocket;
  private isSynced = false;
  private readonly syncWaiters: Array<() => void> = [];

  constructor(
    url: string,
    private readonly name: string,
    readonly doc = new Y.Doc(),
    token = '',
  ) {
    this.awareness = new Awareness(doc);
    this.ws = new WebSocket(url);
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('open', () => {
      this.send(MESSAGE.auth, (e) => (encoding.writeVarUint(e, AUTH.token), encoding.writeVarString(e, token)));
      this.send(MESSAGE.sync, (e) => writeSyncStep1(e, doc));
      if (this.awareness.getLocalState() !== null) this.sendAwareness([doc.clientID]);
    });
    this.ws.on('message', (data: RawData) => this.receive(data as Buffer));
    this.ws.on('error', () => undefined);
    doc.on('update', this.onUpdate);
    this.awareness.on('update', this.onAwareness);
  }

  /** Resolves once the server's SyncStep2 (the whole document) has been applied. */
  synced(): Promise<void> {
    return this.isSynced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Tells the room this client left (awareness removal), then closes the socket. */
  destroy(): void {
    removeAwarenessStates(this.awareness, [this.doc.clientID], 'local');
    this.doc.off('update', this.onUpdate);
    this.awareness.off('update', this.onAwareness);
    this.awareness.destroy();
    this.ws.close();
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== this) this.send(MESSAGE.sync, (e) => writeUpdate(e, update));
  };

  private readonly onAwareness = ({ added, updated, removed }: AwarenessChange, origin: unknown): void => {
    if (origin !== this) this.sendAwareness([...added, ...updated, ...removed]);
  };

  private sendAwareness(clients: number[]): void {
    this.send(MESSAGE.awareness, (e) => encoding.writeVarUint8Array(e, encodeAwarenessUpdate(this.awareness, clients)));
  }

  private frame(type: number): encoding.Encoder {
    const encoder = encoding.createEncoder();
    encoding.writeVarString(encoder, this.name);
    encoding.writeVarUint(encoder, type);
    return encoder;
  }

  private send(type: number, write: (encoder: encoding.Encoder) => void): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const encoder = this.frame(type);
    write(encoder);
    this.ws.send(encoding.toUint8Array(encoder));
  }

  private receive(data: Buffer): void {
    const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (decoding.readVarString(decoder) !== this.name) return;
    switch (decoding.readVarUint(decoder)) {
      case MESSAGE.sync:
      case MESSAGE.syncReply: {
        const reply = this.frame(MESSAGE.sync);
        const empty = encoding.length(reply);
        if (readSyncMessage(decoder, reply, this.doc, this) === messageYjsSyncStep2 && !this.isSynced) {
          this.isSynced = true;
          for (const resolve of this.syncWaiters.splice(0)) resolve();
        }
        if (encoding.length(reply) > empty && this.ws.readyState === WebSocket.OPEN) this.ws.send(encoding.toUint8Array(reply));
        return;
      }
      case MESSAGE.awareness:
        return applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), this);
      case MESSAGE.queryAwareness:
        return this.sendAwareness([...this.awareness.getStates().keys()]);
      case MESSAGE.auth:
        if (decoding.readVarUint(decoder) === AUTH.permissionDenied) throw new Error(`Hocuspocus refused ${this.name}: ${decoding.readVarString(decoder)}`);
        return;
      default:
        // SyncStatus (the server's ack of each update) and stateless messages: nothing to do.
        return;
    }
  }
}
