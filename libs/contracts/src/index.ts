export * from './bus-topics.js';
export * from './errors.js';
export * from './events.js';
export * from './roles.js';
export * from './streams.js';
export * from './doc-changes.js';
