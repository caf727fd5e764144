export * from './in-memory-message-bus.js';
export * from './message-bus.js';
export * from './redis-message-bus.js';
