import { Command } from 'commander';
import { runVerify } from './verify-command.js';

/** `palimpsest`: offline tools over a Palimpsest store. */
const program = new Command('palimpsest').description('Offline tools for a Palimpsest event store');

program
  .command('verify')
  .description('Verify every stream of a store offline (hash chains and signed seals); prints the first bad position per stream; exit 1 when tampered')
  .option('--data-dir <dir>', 'the server data directory (SQLite store palimpsest.sqlite and the secret); default DATA_DIR')
  .option('--database-url <url>', 'a postgres:// URL instead of the SQLite data directory; default DATABASE_URL when no --data-dir is given')
  .option('--database-schema <schema>', 'PostgreSQL schema', process.env.DATABASE_SCHEMA ?? 'public')
  .option('--secret <secret>', 'the server secret, to check seal signatures (default PALIMPSEST_SECRET or <data-dir>/secret)')
  .option('--stream <stream>', 'only this stream (notebook:<id>, kernel:<id>)')
  .option('--verbose', 'also list the streams that verified')
  .action(async (options: { dataDir?: string; databaseUrl?: string; databaseSchema?: string; secret?: string; stream?: string; verbose?: boolean }) => {
    process.exitCode = await runVerify(options, { out: (line) => console.log(line), err: process.stderr });
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`palimpsest: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
