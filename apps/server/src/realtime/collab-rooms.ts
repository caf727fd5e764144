import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { authorize, NotebookAccess, type Principal } from '@palimpsest/auth';
import { MessageBus } from '@palimpsest/bus';
import { DomainError, parseStreamId, type LoggedEvent } from '@palimpsest/contracts';
import { checkUpdate, NotebookService, type CollaboratorUpdateResult } from '@palimpsest/notebook';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { refusalOf, type CollabPeer, type Refusal, type UpdateChannel } from './collab-peer.js';
import type { Ack } from './socket-auth.js';

/** The peers of one notebook and their shared awareness (presence is relayed, never logged). */
interface Room {
  peers: Set<CollabPeer>;
  awareness: Awareness;
  /** The awareness client ids each peer announced, removed when it leaves. */
  clientIds: Map<CollabPeer, Set<number>>;
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] };

/**
 * Live rooms of both transports. Updates go through NotebookService (durable first); what reaches
 * the peers is the committed log, taken from the bus, so REST, kernel and editor changes all arrive
 * by one path and only after commit. A peer never gets back the events its own updates caused.
 */
@Injectable()
export class CollabRooms implements OnModuleDestroy {
  private readonly logger = new Logger(CollabRooms.name);
  private readonly rooms = new Map<string, Room>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly notebooks: NotebookService,
    private readonly access: NotebookAccess,
    bus: MessageBus,
  ) {
    this.unsubscribe = bus.subscribe('log.committed', ({ events }) => this.fanOut(events));
  }

  /** Checks that a principal may open the notebook's room (NOT_FOUND, FORBIDDEN otherwise). */
  admit(principal: Principal, notebookId: string): void {
    authorize(this.access, principal, notebookId, 'read');
  }

  /** Adds a peer before its first sync answer is computed, so nothing committed meanwhile is missed. */
  join(peer: CollabPeer): void {
    const room = this.rooms.get(peer.notebookId) ?? this.openRoom(peer.notebookId);
    room.peers.add(peer);
    room.clientIds.set(peer, new Set());
    this.notebooks.live.retain(peer.notebookId);
    const states = [...room.awareness.getStates().keys()];
    if (states.length > 0) peer.sendAwareness(encodeAwarenessUpdate(room.awareness, states));
    this.record(peer, 'joined');
  }

  /** Removes a peer and its awareness states (the room is told); the document unloads later if idle. */
  leave(peer: CollabPeer): void {
    const room = this.rooms.get(peer.notebookId);
    if (!room?.peers.delete(peer)) return;
    const ids = [...(room.clientIds.get(peer) ?? [])];
    room.clientIds.delete(peer);
    if (ids.length > 0) removeAwarenessStates(room.awareness, ids, null);
    if (room.peers.size === 0) {
      room.awareness.destroy();
      this.rooms.delete(peer.notebookId);
    }
    this.notebooks.live.release(peer.notebookId);
    this.record(peer, 'left');
  }

  /** Sync step 1: the update the peer lacks and the server's state vector (to ask for what it lacks). */
  syncStep1(peer: CollabPeer, stateVector: Uint8Array): Promise<{ update: Uint8Array; stateVector: Uint8Array }> {
    return this.notebooks.syncState(peer.notebookId, stateVector);
  }

  /**
   * Sync step 2: what the peer has that the server lacks (offline edits). A viewer's answer is ignored
   * unless it carries edits, which are refused like any viewer update.
   */
  receiveSyncReply(peer: CollabPeer, update: Uint8Array): Promise<Ack> {
    if (!this.mayEdit(peer)) {
      return Promise.resolve(this.refuseUnlessEmpty(peer, update));
    }
    return this.receiveUpdate(peer, update);
  }

  /** A live update: the edit right is checked on every update, then it is appended before anyone sees it. */
  async receiveUpdate(peer: CollabPeer, update: Uint8Array): Promise<Ack> {
    try {
      authorize(this.access, peer.principal, peer.notebookId, 'edit');
      const result: CollaboratorUpdateResult = await this.notebooks.applyCollaboratorUpdate(
        peer.notebookId,
        { actor: peer.principal.user, clientId: peer.clientId },
        update,
      );
      return { ok: true, ...result };
    } catch (error) {
      return this.refuse(peer, error);
    }
  }

  /** Relays an awareness update to the whole room (sender included, as y-websocket does). */
  receiveAwareness(peer: CollabPeer, update: Uint8Array): Ack {
    const room = this.rooms.get(peer.notebookId);
    if (!room?.peers.has(peer)) return this.refuse(peer, new DomainError('BAD_REQUEST', 'not in the room'));
    try {
      applyAwarenessUpdate(room.awareness, update, peer);
      return { ok: true };
    } catch {
      return this.refuse(peer, new DomainError('BAD_REQUEST', 'malformed awareness update'));
    }
  }

  /** Every awareness state of the peer's room, encoded (answers a query-awareness). */
  awarenessOf(peer: CollabPeer): Uint8Array | null {
    const room = this.rooms.get(peer.notebookId);
    const states = room ? [...room.awareness.getStates().keys()] : [];
    return room && states.length > 0 ? encodeAwarenessUpdate(room.awareness, states) : null;
  }

  onModuleDestroy(): void {
    this.unsubscribe();
    for (const room of this.rooms.values()) room.awareness.destroy();
    this.rooms.clear();
  }

  private openRoom(notebookId: string): Room {
    const awareness = new Awareness(new Y.Doc());
    awareness.setLocalState(null);
    const room: Room = { peers: new Set(), awareness, clientIds: new Map() };
    awareness.on('update', ({ added, updated, removed }: AwarenessChange, origin: unknown) => {
      const owned = room.clientIds.get(origin as CollabPeer);
      if (owned) {
        for (const id of added) owned.add(id);
        for (const id of removed) owned.delete(id);
      }
      const message = encodeAwarenessUpdate(awareness, [...added, ...updated, ...removed]);
      for (const peer of room.peers) peer.sendAwareness(message);
    });
    this.rooms.set(notebookId, room);
    return room;
  }

  /** Sends each committed Yjs event of a notebook to its room, except to the client that caused it; once per update channel. */
  private fanOut(events: readonly LoggedEvent[]): void {
    for (const event of events) {
      if (event.payload.encoding !== 'yjs') continue;
      const stream = parseStreamId(event.stream);
      const room = stream?.kind === 'notebook' ? this.rooms.get(stream.id) : undefined;
      if (!room) continue;
      // A repaired update also deleted cells the sender still holds: it needs the event too.
      const skip = event.metadata.repaired_cell_ids === undefined ? event.metadata.client_id : undefined;
      const except = new Set<CollabPeer>();
      const channels = new Set<UpdateChannel>();
      for (const peer of room.peers) {
        channels.add(peer.updates);
        if (peer.clientId === skip) except.add(peer);
      }
      for (const channel of channels) channel.send(event.payload.bytes, except);
    }
  }

  private mayEdit(peer: CollabPeer): boolean {
    try {
      authorize(this.access, peer.principal, peer.notebookId, 'edit');
      return true;
    } catch {
      return false;
    }
  }

  private refuseUnlessEmpty(peer: CollabPeer, update: Uint8Array): Ack {
    try {
      if (checkUpdate(update).structs === 0) return { ok: true, appended: false };
      return this.refuse(peer, new DomainError('FORBIDDEN', `${peer.principal.user} may not edit notebook ${peer.notebookId}; the edits were not applied`));
    } catch (error) {
      return this.refuse(peer, error);
    }
  }

  private refuse(peer: CollabPeer, error: unknown): Refusal {
    const ack = refusalOf(error);
    if (ack.error === 'INTERNAL') this.logger.error(`update of ${peer.clientId} to ${peer.notebookId} failed: ${String(error)}`);
    peer.refuse(ack);
    return ack;
  }

  private record(peer: CollabPeer, presence: 'joined' | 'left'): void {
    const who = { actor: peer.principal.user, clientId: peer.clientId };
    this.notebooks.recordClient(peer.notebookId, who, presence, peer.transport).catch((error: unknown) => {
      if (!(error instanceof DomainError)) this.logger.warn(`could not log ${presence} of ${peer.clientId}: ${String(error)}`);
    });
  }
}
