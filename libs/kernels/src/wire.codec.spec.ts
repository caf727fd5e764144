import { describe, expect, it } from 'vitest';
import { createMessage } from './message.factory.js';
import { DELIMITER, WireCodec } from './wire.codec.js';

const message = createMessage({ session: 's', username: 'u' }, 'shell', 'execute_request', { code: '1' }, { buffers: [Buffer.from('b')] });

describe(WireCodec.name, () => {
  it('frames a message after the delimiter with an HMAC-SHA256 signature, and decodes it back', () => {
    const codec = new WireCodec('secret');
    const frames = codec.encode(message);
    expect(frames[0].toString()).toBe(DELIMITER);
    expect(frames[1].toString()).toMatch(/^[0-9a-f]{64}$/);
    const decoded = codec.decode('shell', [Buffer.from('identity'), ...frames]);
    expect(decoded).toEqual(message);
    expect(codec.rejected).toBe(0);
  });

  it('drops and counts a message signed with another key, a tampered one and a malformed one', () => {
    const codec = new WireCodec('secret');
    const tampered = codec.encode(message);
    tampered[5] = Buffer.from('{"code":"import os"}');
    expect(codec.decode('shell', new WireCodec('other').encode(message))).toBeNull();
    expect(codec.decode('shell', tampered)).toBeNull();
    expect(codec.decode('shell', [Buffer.from('no delimiter')])).toBeNull();
    expect(codec.rejected).toBe(3);
  });
});
