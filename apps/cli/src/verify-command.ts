import { deriveSealKey, SQLITE_FILE_NAME, TypeOrmEventStore, type StreamVerdict } from '@palimpsest/event-store';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MIGRATIONS } from '../../../migrations/index.js';
import { ProgressLine, type ProgressTarget } from './progress-line.js';

/** Options of `palimpsest verify`. */
export interface VerifyCommandOptions {
  dataDir?: string;
  databaseUrl?: string;
  databaseSchema?: string;
  /** The server secret (to check the seals' signatures); else PALIMPSEST_SECRET, else `<data-dir>/secret`. */
  secret?: string;
  stream?: string;
  /** Also list the streams that verified. */
  verbose?: boolean;
}

/** Where the command writes: results on `out`, progress and notes on `err`. */
export interface CommandIo {
  out: (line: string) => void;
  err: ProgressTarget;
}

/** The secret that signs seals, if one can be found without creating anything. */
function findSecret(options: VerifyCommandOptions): string | undefined {
  if (options.secret) return options.secret;
  if (process.env.PALIMPSEST_SECRET) return process.env.PALIMPSEST_SECRET;
  const path = options.dataDir ? join(options.dataDir, 'secret') : undefined;
  return path && existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

/**
 * Verifies a whole store offline: every stream's hash chain and its seals. Prints the first bad
 * position of each bad stream; returns the exit code (0 all intact, 1 tampering found).
 */
export async function runVerify(given: VerifyCommandOptions, io: CommandIo): Promise<number> {
  // An explicit flag wins over the environment: `--data-dir` must not be overridden by a DATABASE_URL set for the server.
  const options: VerifyCommandOptions = {
    ...given,
    databaseUrl: given.databaseUrl ?? (given.dataDir ? undefined : process.env.DATABASE_URL || undefined),
    dataDir: given.dataDir ?? (given.databaseUrl ? undefined : process.env.DATA_DIR || undefined),
  };
  const sqlitePath = options.dataDir ? join(resolve(options.dataDir), SQLITE_FILE_NAME) : undefined;
  if (!options.databaseUrl && !(sqlitePath && existsSync(sqlitePath))) {
    throw new Error(options.dataDir ? `no Palimpsest database in ${options.dataDir} (expected ${SQLITE_FILE_NAME})` : 'give --data-dir or --database-url');
  }
  const secret = findSecret(options);
  if (!secret) io.err.write('note: no secret found (--secret, PALIMPSEST_SECRET or <data-dir>/secret): seals are compared but their signatures are not checked\n');
  const store = await TypeOrmEventStore.open({
    databaseUrl: options.databaseUrl,
    postgresSchema: options.databaseSchema,
    sqlitePath,
    migrations: MIGRATIONS,
    sealKey: secret ? deriveSealKey(secret) : undefined,
  });
  const progress = new ProgressLine('verifying', io.err);
  const bad: StreamVerdict[] = [];
  let streams = 0;
  try {
    const result = await store.verifyStreams({
      stream: options.stream,
      onProgress: (done, total) => progress.update(done, total),
      onStream: (verdict) => {
        streams += 1;
        if (!verdict.ok) bad.push(verdict);
        else if (options.verbose) io.out(`ok   ${verdict.stream} (${verdict.checked} events)`);
      },
    });
    progress.finish();
    for (const verdict of bad) io.out(`BAD  ${verdict.stream} first bad position ${verdict.first_bad_position}: ${verdict.reason}`);
    io.out(`${result.ok ? 'intact' : 'TAMPERED'}: ${streams} streams, ${bad.length} bad`);
    return result.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}
