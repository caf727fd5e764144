import { kernelStream, notebookStream, type KernelMessageEventData } from '@palimpsest/contracts';
import { readPages, type EventStore } from '@palimpsest/event-store';
import type { OrphanReport } from './kernel.registry.js';
import { rawMessageOf, type RawKernelMessage } from './raw-message.js';

/** The actor of what the server records about kernels a stopped server left behind. */
export const REAPER_ACTOR = 'palimpsest:reaper';

/** Who a kernel was for, read back from the first event of its stream: its notebook and the user who started it. */
export interface KernelOrigin {
  notebookId: string | null;
  startedBy: string;
}

/** The notebook and starter of a kernel, running or not, from the log; null when the log has no such kernel. */
export async function kernelOrigin(store: EventStore, kernelId: string): Promise<KernelOrigin | null> {
  const [first] = await store.readStream(kernelStream(kernelId), 1, 1);
  return first ? { notebookId: first.metadata.notebook_id, startedBy: first.metadata.actor } : null;
}

/** Largest page of the threaded view over REST, and its default: a longer thread is read a page at a time. */
export const MAX_THREAD_PAGE = 10_000;

/** One page of a threaded view: its messages in order, and `next`, the `after` of the following page (null on the last). */
export interface ThreadPage {
  messages: RawKernelMessage[];
  next: number | null;
}

/**
 * A page of the threaded view of a request, read back from the log through its message-id index: the
 * message with that msg_id and every message whose parent it is, in the order they were recorded, from
 * after log position `after`, at most `limit` of them.
 */
export async function readThread(store: EventStore, kernelId: string, parentId: string, page: { after?: number; limit: number }): Promise<ThreadPage> {
  const query = { stream: kernelStream(kernelId), types: ['kernel.message'], thread: parentId, after: page.after };
  const candidates = await store.read({ ...query, limit: page.limit + 1 });
  const read = candidates.slice(0, page.limit);
  const messages: RawKernelMessage[] = [];
  for (const event of read) {
    // The index only finds candidates: what is shown is decided by the hashed payload itself.
    const data = event.payload.encoding === 'json' ? (event.payload.json as KernelMessageEventData) : null;
    if (data && (data.msg_id === parentId || data.parent_msg_id === parentId)) messages.push(rawMessageOf(data));
  }
  return { messages, next: candidates.length > page.limit ? read[read.length - 1].position : null };
}

/** An orphan kernel as the reaper left it, with the notebook it served. */
export interface ReapedKernel extends OrphanReport {
  /** Read from its stream when its end was recorded; null for a standalone kernel, or one left alone (`pid_reused`). */
  notebookId: string | null;
}

/** Appends `kernel.lifecycle` died to the stream of every orphan that was reaped (killed, or found gone). */
export async function recordReapedOrphans(store: EventStore, reports: readonly OrphanReport[]): Promise<ReapedKernel[]> {
  const reaped: ReapedKernel[] = [];
  for (const report of reports) {
    if (report.outcome === 'pid_reused') {
      reaped.push({ ...report, notebookId: null });
      continue;
    }
    const origin = await kernelOrigin(store, report.kernel_id);
    const reason = report.outcome === 'killed' ? 'its server stopped; killed at the next boot' : 'its server stopped; found gone at the next boot';
    await store.append({
      stream: kernelStream(report.kernel_id),
      events: [
        {
          type: 'kernel.lifecycle',
          payload: { encoding: 'json', json: { state: 'died', kernel_name: report.name, reason } },
          metadata: { actor: REAPER_ACTOR, cell_ids: [], notebook_id: origin?.notebookId ?? null, pid: report.pid },
        },
      ],
    });
    reaped.push({ ...report, notebookId: origin?.notebookId ?? null });
  }
  return reaped;
}

/**
 * The cells of a notebook that this kernel wrote to last among kernels: the ones whose execution state is its
 * to finish. A cell another kernel wrote to since (say, a kernel started on another node meanwhile) is not.
 */
export async function cellsLastWrittenBy(store: EventStore, notebookId: string, kernelId: string): Promise<string[]> {
  const stream = notebookStream(notebookId);
  const lastWrite = new Map<string, number>();
  for await (const page of readPages(store, { stream, actor: `kernel:${kernelId}` })) {
    for (const event of page) for (const cellId of event.metadata.cell_ids) lastWrite.set(cellId, event.position);
  }
  const cells: string[] = [];
  for (const [cellId, position] of lastWrite) {
    let writtenSince = false;
    for await (const page of readPages(store, { stream, cellId, after: position })) {
      writtenSince ||= page.some((event) => event.metadata.actor.startsWith('kernel:'));
      if (writtenSince) break;
    }
    if (!writtenSince) cells.push(cellId);
  }
  return cells;
}
