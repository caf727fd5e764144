import { describe, expect, it, vi } from 'vitest';
import { TokenService } from './token.service.js';

describe(TokenService.name, () => {
  const sut = new TokenService('s3cret', 60);

  it('mints a token for the right secret that verifies back to the user and scope', async () => {
    const issued = await sut.issue('s3cret', 'alice', 'read');
    expect(issued).toMatchObject({ token_type: 'bearer', expires_in: 60 });
    await expect(sut.verify(issued.access_token)).resolves.toEqual({ user: 'alice', scope: 'read' });
  });

  it('refuses a wrong secret with UNAUTHORIZED', async () => {
    await expect(sut.issue('nope', 'alice')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('refuses a token signed with another secret', async () => {
    const other = await new TokenService('other', 60).issue('other', 'mallory');
    await expect(sut.verify(other.access_token)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'the token is invalid' });
  });

  it('refuses an expired token, saying so', async () => {
    const shortLived = new TokenService('s3cret', -10);
    const issued = await shortLived.issue('s3cret', 'alice');
    await expect(sut.verify(issued.access_token)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'the token has expired' });
  });

  it('answers a token it verified before from memory until it expires, then refuses it', async () => {
    const shortLived = new TokenService('s3cret', 1);
    const issued = await shortLived.issue('s3cret', 'alice');
    const { exp } = JSON.parse(Buffer.from(issued.access_token.split('.')[1], 'base64url').toString()) as { exp: number };
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime((exp - 1) * 1000);
      await expect(shortLived.verify(issued.access_token)).resolves.toEqual({ user: 'alice', scope: 'write' });
      await expect(shortLived.verify(issued.access_token)).resolves.toEqual({ user: 'alice', scope: 'write' });
      vi.setSystemTime((exp + 1) * 1000);
      await expect(shortLived.verify(issued.access_token)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'the token has expired' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('never remembers a token that failed, nor one altered after a success', async () => {
    const issued = await sut.issue('s3cret', 'alice');
    await expect(sut.verify(issued.access_token)).resolves.toMatchObject({ user: 'alice' });
    const [header, payload, signature] = issued.access_token.split('.');
    const forged = [header, Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' })).toString('base64url'), signature].join('.');
    await expect(sut.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: 'the token is invalid' });
    await expect(sut.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
