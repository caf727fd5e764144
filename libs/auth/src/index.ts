export * from './auth.guard.js';
export * from './notebook-access.js';
export * from './secret.js';
export * from './token.service.js';
