import type { KernelMessageEventData } from '@palimpsest/contracts';

/** A Jupyter message as clients see it (Jupyter Server's JSON websocket form, with its `channel`; buffers base64). */
export interface RawKernelMessage {
  channel: KernelMessageEventData['channel'];
  msg_id: string;
  msg_type: string;
  header: Record<string, unknown>;
  parent_header: Record<string, unknown>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: string[];
}

/** The raw message of a `kernel.message` event's data. */
export function rawMessageOf(data: KernelMessageEventData): RawKernelMessage {
  return {
    channel: data.channel,
    msg_id: data.msg_id,
    msg_type: data.msg_type,
    header: data.header,
    parent_header: data.parent_header,
    metadata: data.metadata,
    content: data.content,
    buffers: data.buffers,
  };
}
