import { randomUUID } from 'node:crypto';
import type { Channel, JupyterMessage } from './message.types.js';

/** The messaging protocol version this library speaks. */
export const PROTOCOL_VERSION = '5.3';

/** Who sends a message: the client session and user name stamped into every header. */
export interface MessageOrigin {
  session: string;
  username: string;
}

/** Options of a new message: the message it answers, its metadata and binary buffers. */
export interface MessageOptions {
  parent?: JupyterMessage;
  metadata?: Record<string, unknown>;
  buffers?: Buffer[];
}

/** Builds a new message with a fresh msg_id and the current time. */
export function createMessage<C extends object>(
  origin: MessageOrigin,
  channel: Channel,
  msgType: string,
  content: C,
  options: MessageOptions = {},
): JupyterMessage<C> {
  return {
    channel,
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session: origin.session,
      username: origin.username,
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
    },
    parent_header: options.parent ? { ...options.parent.header } : {},
    metadata: options.metadata ?? {},
    content,
    buffers: options.buffers ?? [],
  };
}

/** The msg_id of the message's parent, or null when it has none. */
export function parentMsgId(message: JupyterMessage): string | null {
  return typeof message.parent_header.msg_id === 'string' ? message.parent_header.msg_id : null;
}
