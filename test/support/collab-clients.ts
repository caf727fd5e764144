import { SocketIOProvider } from 'y-socket.io';
import { WebsocketProvider } from 'y-websocket';
import type { Awareness } from 'y-protocols/awareness';
import { WebSocket } from 'ws';
import * as Y from 'yjs';

/** A collaboration client of either transport, with what tests need of it. */
export interface CollabClient {
  transport: 'socket.io' | 'websocket';
  doc: Y.Doc;
  awareness: Awareness;
  connect(): void;
  disconnect(): void;
  destroy(): void;
  /** Resolves once the provider reports a completed sync. */
  synced(): Promise<void>;
}

/** What both providers offer. */
interface Provider {
  awareness: Awareness;
  synced: boolean;
  connect(): void;
  disconnect(): void;
  destroy(): void;
  once(name: 'sync', handler: () => void): void;
}

function wrap<P extends Provider>(transport: CollabClient['transport'], provider: P, doc: Y.Doc): CollabClient & { provider: P } {
  return {
    transport,
    provider,
    doc,
    awareness: provider.awareness,
    connect: () => provider.connect(),
    disconnect: () => provider.disconnect(),
    destroy: () => provider.destroy(),
    synced: () => (provider.synced ? Promise.resolve() : new Promise((resolve) => provider.once('sync', () => resolve()))),
  };
}

/** Starts a `y-socket.io` SocketIOProvider on `/yjs|<notebookId>` (broadcast channel off: clients share one process). */
export function socketIoClient(url: string, notebookId: string, token: string, doc = new Y.Doc()): CollabClient & { provider: SocketIOProvider } {
  const provider = new SocketIOProvider(url, notebookId, doc, { auth: { token }, disableBc: true }, { reconnectionDelay: 100, reconnectionDelayMax: 500 });
  return wrap('socket.io', provider, doc);
}

/** Starts a `y-websocket` WebsocketProvider on `/yjs/<notebookId>?token=`. */
export function webSocketClient(url: string, notebookId: string, token: string, doc = new Y.Doc()): CollabClient & { provider: WebsocketProvider } {
  const provider = new WebsocketProvider(`${url.replace(/^http/, 'ws')}/yjs`, notebookId, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    maxBackoffTime: 500,
  });
  return wrap('websocket', provider, doc);
}

/** Something that announces its changes (a Y.Doc, an Awareness). */
interface Announcing {
  on(event: string, handler: () => void): void;
  off(event: string, handler: () => void): void;
}

function waitUntil<T>(target: T, events: Announcing, event: string, predicate: (target: T) => boolean): Promise<void> {
  if (predicate(target)) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (!predicate(target)) return;
      events.off(event, check);
      resolve();
    };
    events.on(event, check);
  });
}

/** Resolves once `predicate` holds for the doc, checking after every transaction. */
export function waitForDoc(doc: Y.Doc, predicate: (doc: Y.Doc) => boolean): Promise<void> {
  return waitUntil(doc, doc as unknown as Announcing, 'afterTransaction', predicate);
}

/** Resolves once `predicate` holds for the awareness, checking after every change. */
export function waitForAwareness(awareness: Awareness, predicate: (awareness: Awareness) => boolean): Promise<void> {
  return waitUntil(awareness, awareness as unknown as Announcing, 'change', predicate);
}

/** The cell with this id in a notebook document (jupyter_ydoc schema), or undefined. */
function cellMap(doc: Y.Doc, cellId: string): Y.Map<unknown> | undefined {
  return doc
    .getArray<Y.Map<unknown>>('cells')
    .toArray()
    .find((c) => c.get('id') === cellId);
}

/** The source text of the cell with this id, or undefined. */
export function cellSource(doc: Y.Doc, cellId: string): string | undefined {
  return (cellMap(doc, cellId)?.get('source') as Y.Text | undefined)?.toJSON();
}

/** The `execution_state` of the cell with this id (`running`, `idle`), or undefined when it has none. */
export function cellExecutionState(doc: Y.Doc, cellId: string): unknown {
  return cellMap(doc, cellId)?.get('execution_state');
}
