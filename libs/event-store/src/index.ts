export * from './event-store.js';
export { chainHash, type HashedColumns } from './hash-chain.js';
export { toApiEvent, matchesQuery } from './row-mapping.js';
export { TypeOrmEventStore, type EventStoreOptions } from './typeorm-event-store.js';
