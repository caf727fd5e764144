import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Returns the configured secret, or the one stored in `dataDir/secret`, generating it on first start. */
export function loadOrCreateSecret(configured: string | undefined, dataDir: string): { secret: string; generatedAt?: string } {
  if (configured) return { secret: configured };
  const path = join(dataDir, 'secret');
  if (existsSync(path)) return { secret: readFileSync(path, 'utf8').trim(), generatedAt: path };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, generatedAt: path };
}
