import { CreateEventLog1763836800000 } from './1763836800000-CreateEventLog.js';
import { CreateStreamSeals1764028800000 } from './1764028800000-CreateStreamSeals.js';

/** Every committed migration, in order; the server and the tests run exactly this set. */
export const MIGRATIONS = [CreateEventLog1763836800000, CreateStreamSeals1764028800000];
