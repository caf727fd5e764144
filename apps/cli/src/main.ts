import { Command } from 'commander';
import { once } from 'node:events';
import { runBackup } from './backup-command.js';
import { runEvents, runExport, runImport, runNotebooks, runToken } from './client-commands.js';
import { ServerError, type ServerOptions } from './server-client.js';
import { runVerify } from './verify-command.js';

/** `palimpsest`: a client of a running server, and offline tools over a store. */
const program = new Command('palimpsest').description('Palimpsest: a client of a running server, and offline tools for its event store');

/** Adds the options every online command takes (how to reach and authenticate to the server). */
function online(command: Command): Command {
  return command
    .option('--url <url>', 'the server (default PALIMPSEST_URL or http://127.0.0.1:8000)')
    .option('--token <token>', 'a bearer token (default PALIMPSEST_TOKEN)')
    .option('--user <user>', 'mint a token for this user instead (needs the secret)')
    .option('--secret <secret>', 'the server secret, to mint a token (default PALIMPSEST_SECRET)');
}

const print = (line: string) => console.log(line);

online(program.command('token').description('Mint a token for --user and print it').option('--read', 'a read-only token')).action(
  (options: ServerOptions & { read?: boolean }) => runToken(options, print),
);

online(program.command('notebooks').description('List the notebooks you may read: id, role, version, name (tab-separated)')).action((options: ServerOptions) =>
  runNotebooks(options, print),
);

online(
  program
    .command('export <notebook-id>')
    .description('Write a notebook as an .ipynb file (stdout unless --output)')
    .option('--at <version-or-time>', 'as it was at a version or an ISO-8601 time')
    .option('-o, --output <file>', 'write to this file'),
).action((notebookId: string, options: ServerOptions & { at?: string; output?: string }) => runExport(notebookId, options, print));

online(
  program.command('import <file>').description('Create a notebook from an .ipynb file; prints its id and version').option('--name <name>', 'its name (default the file name)'),
).action((file: string, options: ServerOptions & { name?: string }) => runImport(file, options, print));

online(
  program
    .command('events <notebook-id>')
    .description("Print a notebook's events as NDJSON (its kernels' included)")
    .option('--after <position>', 'only events after this global position (default 0: the whole history)')
    .option('-f, --follow', 'keep printing live events until interrupted'),
).action((notebookId: string, options: ServerOptions & { after?: string; follow?: boolean }) =>
  runEvents(notebookId, options, print, Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]).then(() => undefined)),
);

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

program
  .command('backup')
  .description('Copy a SQLite store, consistently, while the server runs (SQLite online backup); prints the copy, its events and head')
  .requiredOption('--to <dir>', 'a new directory for the copy (it gets palimpsest.sqlite; check it with verify --data-dir <dir>)')
  .option('--data-dir <dir>', 'the server data directory (default DATA_DIR or ./data)')
  .action((options: { to: string; dataDir?: string }) => runBackup(options, print));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`palimpsest: ${error instanceof Error ? error.message : String(error)}`);
  // A refusal by the server (NOT_FOUND, FORBIDDEN, ...) is 1; a usage or connection problem is 2.
  process.exitCode = error instanceof ServerError ? 1 : 2;
}
