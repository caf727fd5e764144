import { Logger } from '@nestjs/common';
import { Ack, ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayDisconnect, type OnGatewayInit } from '@nestjs/websockets';
import { authorize, NotebookAccess, TokenService, type Principal } from '@palimpsest/auth';
import { DomainError } from '@palimpsest/contracts';
import { EventStore } from '@palimpsest/event-store';
import type { Namespace, Socket } from 'socket.io';
import { parseReplayStart, parseSeek, positionOfVersion, replayRange } from './replay-request.js';
import { ReplaySession } from './replay-session.js';
import { socketAuthMiddleware, type Ack as AckBody, ackError } from './socket-auth.js';

interface ReplaySocketData {
  principal: Principal;
  session?: ReplaySession;
  notebookId?: string;
}

/**
 * Socket.IO `/replay`: plays a notebook's history back as `event`s paced by their recorded times
 * (`speed` x real time, or 'max'), with `pause`, `resume`, `seek`, `stop`, `progress` and `end`.
 * One replay per socket; a new `start` replaces the previous one.
 */
@WebSocketGateway({ namespace: '/replay', cors: { origin: true } })
export class ReplayGateway implements OnGatewayInit, OnGatewayDisconnect {
  private readonly logger = new Logger(ReplayGateway.name);

  constructor(
    private readonly store: EventStore,
    private readonly access: NotebookAccess,
    private readonly tokens: TokenService,
  ) {}

  afterInit(namespace: Namespace): void {
    namespace.use(socketAuthMiddleware(this.tokens, (socket, principal) => ((socket.data as ReplaySocketData).principal = principal)));
  }

  /** Acks `{ok, total}` once the range is known, then plays it. */
  @SubscribeMessage('start')
  async start(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: (response: AckBody) => void): Promise<void> {
    const data = socket.data as ReplaySocketData;
    try {
      const request = parseReplayStart(body);
      authorize(this.access, data.principal, request.notebookId, 'read');
      const query = await replayRange(this.store, request);
      const total = await this.store.count(query);
      data.session?.stop();
      const session = new ReplaySession(this.store, query, request.speed, {
        event: (event) => socket.emit('event', event),
        progress: (progress) => socket.emit('progress', progress),
        end: (progress) => socket.emit('end', progress),
        error: (error) => {
          this.logger.error(`replay for ${socket.id} failed: ${error.message}`);
          socket.emit('replay_error', { error: 'INTERNAL', message: 'the replay stopped' });
        },
      }, total);
      data.session = session;
      data.notebookId = request.notebookId;
      ack({ ok: true, total });
      session.start();
    } catch (error) {
      ack(ackError(error));
    }
  }

  /** Holds the replay. */
  @SubscribeMessage('pause')
  pause(@ConnectedSocket() socket: Socket, @Ack() ack: (response: AckBody) => void): void {
    this.withSession(socket, ack, (session) => session.pause());
  }

  /** Continues a paused replay. */
  @SubscribeMessage('resume')
  resume(@ConnectedSocket() socket: Socket, @Ack() ack: (response: AckBody) => void): void {
    this.withSession(socket, ack, (session) => session.resume());
  }

  /** Stops the replay. */
  @SubscribeMessage('stop')
  stop(@ConnectedSocket() socket: Socket, @Ack() ack: (response: AckBody) => void): void {
    this.withSession(socket, ack, (session) => session.stop());
  }

  /** Jumps to `{position}` (global) or `{version}` (of the notebook) and continues from that event. */
  @SubscribeMessage('seek')
  async seek(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: (response: AckBody) => void): Promise<void> {
    const data = socket.data as ReplaySocketData;
    try {
      const session = data.session;
      if (!session || session.finished || !data.notebookId) throw new DomainError('CONFLICT', 'no replay is running; start one first');
      const target = parseSeek(body);
      const position = 'position' in target ? target.position : await positionOfVersion(this.store, data.notebookId, target.version);
      const doneBefore = await this.store.count({ ...session.range, upTo: Math.min(session.range.upTo ?? Number.MAX_SAFE_INTEGER, position - 1) });
      session.seek(position, doneBefore);
      ack({ ok: true, done: doneBefore, total: session.total });
    } catch (error) {
      ack(ackError(error));
    }
  }

  handleDisconnect(socket: Socket): void {
    (socket.data as Partial<ReplaySocketData>).session?.stop();
  }

  private withSession(socket: Socket, ack: (response: AckBody) => void, action: (session: ReplaySession) => void): void {
    const session = (socket.data as ReplaySocketData).session;
    if (!session || session.finished) return ack(ackError(new DomainError('CONFLICT', 'no replay is running; start one first')));
    action(session);
    ack({ ok: true });
  }
}
