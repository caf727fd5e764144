import type { LoggedEvent } from './events.js';

/** Every bus topic with its payload type: the one typed map all gateways meet on. */
export interface BusTopics {
  /** Events just committed to the log, in global order, published once per commit. */
  'log.committed': { events: readonly LoggedEvent[] };
  /** A node appended to the log; other nodes' tails wake up and read it from the store. */
  'log.appended': { node: string; position: number };
  /** A notebook's document changed outside the live room (REST, kernels); rooms apply it. */
  'notebook.updated': { notebook_id: string; update: Uint8Array; origin: string; position: number };
  /** A kernel asked for input and waits for an answer. */
  'kernel.input_requested': { notebook_id: string; kernel_id: string; prompt: string; password: boolean; msg_id: string };
  /** A kernel's execution state changed. */
  'kernel.status': { kernel_id: string; notebook_id: string | null; execution_state: string };
}

/** A bus topic name. */
export type BusTopic = keyof BusTopics;
