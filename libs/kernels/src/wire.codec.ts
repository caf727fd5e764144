import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Channel, JupyterMessage } from './message.types.js';

/** The frame that separates routing identities from the signed message parts. */
export const DELIMITER = '<IDS|MSG>';

/** Signs, frames and verifies Jupyter wire-protocol messages with one connection key (HMAC-SHA256). */
export class WireCodec {
  private rejectedCount = 0;

  constructor(private readonly key: string) {}

  /** How many received messages were dropped because their signature or framing was bad. */
  get rejected(): number {
    return this.rejectedCount;
  }

  /** The hex HMAC-SHA256 of the four JSON parts, or '' when the connection has no key. */
  sign(parts: readonly Buffer[]): string {
    if (this.key === '') return '';
    const hmac = createHmac('sha256', this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest('hex');
  }

  /** The frames of a message: delimiter, signature, header, parent header, metadata, content, buffers. */
  encode(message: JupyterMessage): Buffer[] {
    const parts = [message.header, message.parent_header, message.metadata, message.content].map((part) =>
      Buffer.from(JSON.stringify(part)),
    );
    return [Buffer.from(DELIMITER), Buffer.from(this.sign(parts)), ...parts, ...message.buffers];
  }

  /** Verifies and parses received frames; returns null (and counts it) for a bad signature or malformed frames. */
  decode(channel: Channel, frames: readonly Buffer[]): JupyterMessage | null {
    const at = frames.findIndex((frame) => frame.length === DELIMITER.length && frame.toString() === DELIMITER);
    if (at < 0 || frames.length < at + 6 || !this.verify(frames[at + 1], frames.slice(at + 2, at + 6))) {
      this.rejectedCount += 1;
      return null;
    }
    try {
      const [header, parent, metadata, content] = frames.slice(at + 2, at + 6).map((f) => JSON.parse(f.toString()) as unknown);
      return {
        channel,
        header: header as JupyterMessage['header'],
        parent_header: parent as JupyterMessage['parent_header'],
        metadata: metadata as JupyterMessage['metadata'],
        content: content as JupyterMessage['content'],
        buffers: frames.slice(at + 6),
      };
    } catch {
      this.rejectedCount += 1;
      return null;
    }
  }

  private verify(signature: Buffer, parts: readonly Buffer[]): boolean {
    const expected = Buffer.from(this.sign(parts));
    // Length first: timingSafeEqual needs equal lengths, and a length difference leaks nothing secret.
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  }
}
