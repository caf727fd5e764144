import type { Channel, JupyterMessage } from './message.types.js';

/**
 * The port between a kernel and whatever talks to it, after jupyter_server's
 * KernelWebsocketConnectionABC; the transport (ZeroMQ, TCP) stays behind it.
 */
export interface KernelConnection {
  /** Opens the channels to the running kernel. */
  connect(): Promise<void>;
  /** Closes the channels; messages still in flight are dropped. */
  disconnect(): Promise<void>;
  /** Client -> kernel: signs and sends a message on its channel. */
  handleIncoming(message: JupyterMessage): Promise<void>;
  /** Kernel -> client: verifies the raw frames received on a channel and delivers the message, or drops it. */
  handleOutgoing(channel: Channel, frames: readonly Buffer[]): void;
}
