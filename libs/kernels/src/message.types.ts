/** The five Jupyter channels of a kernel connection. */
export type Channel = 'shell' | 'iopub' | 'stdin' | 'control' | 'hb';

/** Which way a message travelled: from a client to the kernel, or from the kernel. */
export type Direction = 'to_kernel' | 'from_kernel';

/** A Jupyter message header (messaging spec 5.3). */
export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
  [extra: string]: unknown;
}

/** A Jupyter message as it travels on a channel, with its binary buffers decoded. */
export interface JupyterMessage<C = Record<string, unknown>> {
  channel: Channel;
  header: MessageHeader;
  /** The header of the message this one answers, or `{}`. */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** A listener called with every message in both directions, in the order it was sent or received. */
export type MessageListener = (message: JupyterMessage, direction: Direction) => void;

/** The execution states a kernel reports, plus the ones the manager knows before and after the process. */
export type ExecutionState = 'starting' | 'idle' | 'busy' | 'restarting' | 'dead';
