import type { KernelMessageEventData } from '@palimpsest/contracts';
import { parentMsgId } from './message.factory.js';
import type { Direction, JupyterMessage } from './message.types.js';

/** Maps a message and its direction to the data of a `kernel.message` event (buffers base64-encoded). */
export function toKernelMessageEventData(message: JupyterMessage, direction: Direction): KernelMessageEventData {
  return {
    channel: message.channel,
    direction,
    msg_type: message.header.msg_type,
    msg_id: message.header.msg_id,
    parent_msg_id: parentMsgId(message),
    header: { ...message.header },
    parent_header: { ...message.parent_header },
    metadata: message.metadata,
    content: message.content,
    buffers: message.buffers.map((buffer) => buffer.toString('base64')),
  };
}
