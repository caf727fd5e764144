import { describe, expect, it } from 'vitest';
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
});
