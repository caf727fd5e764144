import type { KernelMessageEventData, LoggedEvent } from './events.js';

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
  /** A message went to or came from a kernel (published as it passes, before its event commits: the live tap). */
  'kernel.message': { kernel_id: string; notebook_id: string | null; data: KernelMessageEventData };
  /** A cell execution progressed: its outputs (nbformat) and count so far; the notebook projects it into the cell. */
  'kernel.execution': KernelExecutionProgress;
}

/** Where one execution is, as the notebook needs it to update the cell. */
export interface KernelExecutionProgress {
  notebook_id: string;
  /** The executed cell. */
  cell_id: string;
  kernel_id: string;
  /** The execute_request's msg_id. */
  execution_id: string;
  status: 'queued' | 'running' | 'ok' | 'error' | 'aborted';
  execution_count: number | null;
  /** The cell's outputs in nbformat v4 form (no transient display ids). */
  outputs: Array<Record<string, unknown>>;
}

/** A bus topic name. */
export type BusTopic = keyof BusTopics;

/**
 * Topics a distributed bus carries to every node. Every other topic stays on the node that
 * published it: each node follows the log itself (`log.committed`), and projections that write
 * (kernel outputs into notebooks) must run once, on the node that owns the kernel.
 */
export const CLUSTER_TOPICS: ReadonlySet<BusTopic> = new Set<BusTopic>(['kernel.status', 'kernel.input_requested']);
