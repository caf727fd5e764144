export * from './catalog/notebook-catalog.js';
