export * from './event-store.js';
export { chainHash, type HashedColumns } from './hash-chain.js';
export { toApiEvent, matchesQuery } from './row-mapping.js';
export { SQLITE_FILE_NAME, TypeOrmEventStore, type EventStoreOptions } from './typeorm-event-store.js';
export { deriveSealKey, sealIsAuthentic, sealSignature } from './stream-seals.js';
export { StreamSealer, type StreamSealerOptions } from './stream-sealer.js';
export { readPages, readStreamPages } from './read-pages.js';
