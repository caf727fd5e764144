import { Dealer, Subscriber, type Socket } from 'zeromq';
import { endpoint, type ConnectionInfo } from './connection.file.js';
import type { KernelConnection } from './kernel-connection.port.js';
import type { Channel, Direction, JupyterMessage } from './message.types.js';
import { WireCodec } from './wire.codec.js';

type RequestChannel = 'shell' | 'control' | 'stdin';

/** Receives every message that passed through a connection, in either direction. */
export type ConnectionSink = (message: JupyterMessage, direction: Direction) => void;

// Unbounded queues (as VS Code's raw kernels): a slow reader must not stall or drop kernel output.
const RECEIVE_OPTIONS = { linger: 0, receiveHighWaterMark: 0, maxMessageSize: -1 } as const;
const DEALER_OPTIONS = { ...RECEIVE_OPTIONS, sendHighWaterMark: 0 } as const;

/** A kernel connection over ZeroMQ: DEALERs for shell, control and stdin (one identity), a SUB for iopub. */
export class ZmqKernelConnection implements KernelConnection {
  private readonly codec: WireCodec;
  private sockets: Partial<Record<RequestChannel, Dealer>> & { iopub?: Subscriber } = {};
  private readonly sending = new Map<Socket, Promise<void>>();
  private handshakes: Promise<void> = new Promise(() => undefined);

  constructor(
    private readonly info: ConnectionInfo,
    private readonly identity: string,
    private readonly sink: ConnectionSink,
    private readonly onFault: (error: Error) => void,
  ) {
    this.codec = new WireCodec(info.key);
  }

  /** How many received messages were dropped for a bad signature or bad framing. */
  get rejectedMessages(): number {
    return this.codec.rejected;
  }

  /**
   * Resolves once shell, control and stdin have each completed a ZMTP handshake with the kernel. Until
   * then the kernel's ROUTER does not know our identity on that channel and drops what it sends us
   * there (an `input_request` on stdin would be lost and the kernel would wait forever). Never
   * resolves before `connect`.
   */
  get handshaken(): Promise<void> {
    return this.handshakes;
  }

  /** Opens the four message sockets and starts reading them. */
  connect(): Promise<void> {
    const handshakes: Promise<void>[] = [];
    const dealer = (port: number): Dealer => {
      const socket = new Dealer({ ...DEALER_OPTIONS, routingId: this.identity });
      // Observed before connecting, so the first handshake is not missed.
      handshakes.push(new Promise((resolve) => socket.events.on('handshake', () => resolve())));
      socket.connect(endpoint(this.info, port));
      return socket;
    };
    const iopub = new Subscriber({ ...RECEIVE_OPTIONS });
    iopub.connect(endpoint(this.info, this.info.iopub_port));
    iopub.subscribe();
    this.sockets = {
      shell: dealer(this.info.shell_port),
      control: dealer(this.info.control_port),
      stdin: dealer(this.info.stdin_port),
      iopub,
    };
    this.handshakes = Promise.all(handshakes).then(() => undefined);
    for (const channel of ['shell', 'control', 'stdin', 'iopub'] as const) void this.read(channel);
    return Promise.resolve();
  }

  /** Closes every socket (linger 0: unsent messages are discarded). */
  disconnect(): Promise<void> {
    for (const socket of Object.values(this.sockets)) socket.close();
    this.sockets = {};
    this.sending.clear();
    return Promise.resolve();
  }

  /** Signs and sends a message on its channel; sends on one socket are serialized, as zeromq requires. */
  async handleIncoming(message: JupyterMessage): Promise<void> {
    const channel = message.channel;
    if (channel !== 'shell' && channel !== 'control' && channel !== 'stdin') {
      throw new Error(`cannot send on the ${channel} channel`);
    }
    const socket = this.sockets[channel];
    if (!socket) throw new Error('the kernel connection is closed');
    const frames = this.codec.encode(message);
    this.sink(message, 'to_kernel');
    const previous = this.sending.get(socket) ?? Promise.resolve();
    const sent = previous.then(() => socket.send(frames));
    this.sending.set(socket, sent.catch(() => undefined));
    await sent;
  }

  /** Verifies frames from a channel and hands the message to the sink; bad ones are counted and dropped. */
  handleOutgoing(channel: Channel, frames: readonly Buffer[]): void {
    const message = this.codec.decode(channel, frames);
    if (message) this.sink(message, 'from_kernel');
  }

  private async read(channel: RequestChannel | 'iopub'): Promise<void> {
    const socket = this.sockets[channel];
    if (!socket) return;
    try {
      for await (const frames of socket) this.handleOutgoing(channel, frames);
    } catch (error) {
      // Closing a socket ends its read; anything else on an open socket is a real fault.
      if (!socket.closed) this.onFault(error as Error);
    }
  }
}
