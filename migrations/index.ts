import { CreateEventLog1763836800000 } from './1763836800000-CreateEventLog.js';
import { CreateMessageIdIndex1764201600000 } from './1764201600000-CreateMessageIdIndex.js';
import { CreateStreamSeals1764028800000 } from './1764028800000-CreateStreamSeals.js';

/** Every committed migration, in order; the server and the tests run exactly this set. */
export const MIGRATIONS = [CreateEventLog1763836800000, CreateStreamSeals1764028800000, CreateMessageIdIndex1764201600000];
