import 'reflect-metadata';
import { loadOrCreateSecret } from '@palimpsest/auth';
import { startServer } from './bootstrap.js';
import { configFromEnv } from './config/server.config.js';

const config = configFromEnv();
const { generatedAt } = loadOrCreateSecret(config.secret, config.dataDir);
if (generatedAt) console.log(`Palimpsest: the shared secret is stored in ${generatedAt}`);
await startServer(config);
