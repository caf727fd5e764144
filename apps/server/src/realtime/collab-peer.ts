import type { Principal } from '@palimpsest/auth';
import { ackError, type Ack } from './socket-auth.js';

/** The transports a collaborator can use; recorded in `notebook.client.joined`/`left`. */
export type CollabTransport = 'socket.io' | 'websocket';

/** One connected collaborator as the rooms see it, whatever its transport (the gateway port). */
export interface CollabPeer {
  /** This connection's id: `client_id` in the metadata of the events it causes. */
  readonly clientId: string;
  readonly notebookId: string;
  readonly principal: Principal;
  readonly transport: CollabTransport;
  /** Where the notebook's committed Yjs updates reach this peer (possibly shared with other peers). */
  readonly updates: UpdateChannel;
  /** Sends an awareness update of the room. */
  sendAwareness(update: Uint8Array): void;
  /** Tells the client why something it sent was refused. */
  refuse(reason: Refusal): void;
}

/**
 * A way committed updates reach peers: one connection, or a broadcast that a transport shares among
 * the peers of one room so that an update is encoded once however many receive it. Rooms call `send`
 * once per distinct channel.
 */
export interface UpdateChannel {
  /** Sends the update to every peer behind this channel except those in `except`. */
  send(update: Uint8Array, except: ReadonlySet<CollabPeer>): void;
}

/** A failure ack: `{ok: false, error, message}`. */
export type Refusal = Extract<Ack, { ok: false }>;

/** The refusal for any error, with the contract's code and message. */
export function refusalOf(error: unknown): Refusal {
  return ackError(error) as Refusal;
}
