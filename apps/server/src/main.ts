import 'reflect-metadata';
import { loadOrCreateSecret } from '@palimpsest/auth';
import { startServer } from './bootstrap.js';
import { configFromEnv } from './config/server.config.js';

const config = configFromEnv();
const { generatedAt } = loadOrCreateSecret(config.secret, config.dataDir);
if (generatedAt) console.log(`Palimpsest: the shared secret is stored in ${generatedAt}`);
if (config.redisUrl) {
  // The Redis bus is the scale-out issue's work; until then nodes share the log through the database.
  console.warn('Palimpsest: REDIS_URL is set, but this version runs the in-process bus; nodes share the log through PostgreSQL');
}
await startServer(config);
