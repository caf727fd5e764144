/**
 * A Palimpsest server as a child process, for tests that kill it (SIGKILL) and start it again on the
 * same data dir. Run with the repository's swc loader:
 *   node --import ./test/support/register-swc.mjs test/support/server-child.ts
 * Configuration comes from the environment exactly as for `npm start` (PORT, DATA_DIR, ...).
 * Prints `listening <port>` once it accepts requests.
 */
import 'reflect-metadata';
import { startServer } from '../../apps/server/src/bootstrap.js';
import { configFromEnv } from '../../apps/server/src/config/server.config.js';
import { exitWithParent } from './exit-with-parent.js';

exitWithParent();

const server = await startServer(configFromEnv(process.env, { host: '127.0.0.1' }));
process.stdout.write(`listening ${server.port}\n`);
