import { DomainError } from '@palimpsest/contracts';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { createHash, timingSafeEqual } from 'node:crypto';

/** Who a request acts as: the user and whether the token may write at all. */
export interface Principal {
  user: string;
  scope: 'read' | 'write';
}

/** A minted bearer token in the contract's shape. */
export interface IssuedToken {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
}

const USER_PATTERN = /^[A-Za-z0-9._@-]{1,128}$/;
/** Verified tokens remembered (a client sends the same one with every request); the oldest is forgotten first. */
const MAX_REMEMBERED = 10_000;
const ISSUER = 'palimpsest';

/** Mints and verifies HS256 bearer tokens keyed by the shared secret. */
export class TokenService {
  private readonly key: Uint8Array;
  private readonly secretDigest: Buffer;
  /** Tokens that verified, with their principal and expiry (Unix s): re-checked for expiry only. */
  private readonly verified = new Map<string, { principal: Principal; exp: number }>();

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
    this.secretDigest = createHash('sha256').update(secret).digest();
  }

  /** Exchanges the shared secret for a token for `user`; a wrong secret is UNAUTHORIZED. */
  async issue(secret: string, user: string, scope: Principal['scope'] = 'write'): Promise<IssuedToken> {
    const offered = createHash('sha256').update(secret).digest();
    if (!timingSafeEqual(offered, this.secretDigest)) throw new DomainError('UNAUTHORIZED', 'the secret is wrong');
    if (!USER_PATTERN.test(user)) {
      throw new DomainError('UNPROCESSABLE', 'user must be 1-128 characters of letters, digits, ".", "_", "@" or "-"');
    }
    const token = await new SignJWT({ scope })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
    return { access_token: token, token_type: 'bearer', expires_in: this.ttlSeconds };
  }

  /** Verifies a token and returns its principal; anything invalid or expired is UNAUTHORIZED. */
  async verify(token: string | undefined | null): Promise<Principal> {
    if (!token) throw new DomainError('UNAUTHORIZED', 'a bearer token is required');
    const known = this.verified.get(token);
    if (known && known.exp > Date.now() / 1000) return known.principal;
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string') throw new DomainError('UNAUTHORIZED', 'the token names no user');
      const principal: Principal = { user: payload.sub, scope: payload.scope === 'read' ? 'read' : 'write' };
      // The signature and claims of this exact string are settled; only its expiry can change the answer.
      if (typeof payload.exp === 'number') this.remember(token, principal, payload.exp);
      return principal;
    } catch (error) {
      this.verified.delete(token);
      if (error instanceof DomainError) throw error;
      const expired = error instanceof joseErrors.JWTExpired;
      throw new DomainError('UNAUTHORIZED', expired ? 'the token has expired' : 'the token is invalid');
    }
  }

  private remember(token: string, principal: Principal, exp: number): void {
    if (this.verified.size >= MAX_REMEMBERED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, exp });
  }
}
