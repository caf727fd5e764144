import { kernelStream, type KernelMessageEventData } from '@palimpsest/contracts';
import type { EventStore } from '@palimpsest/event-store';
import type { OrphanReport } from './kernel.registry.js';
import { rawMessageOf, type RawKernelMessage } from './raw-message.js';

const PAGE = 2000;

/** Who a kernel was for, read back from the first event of its stream: its notebook and the user who started it. */
export interface KernelOrigin {
  notebookId: string | null;
  startedBy: string;
}

/** The notebook and starter of a kernel, running or not, from the log; null when the log has no such kernel. */
export async function kernelOrigin(store: EventStore, kernelId: string): Promise<KernelOrigin | null> {
  const [first] = await store.read({ stream: kernelStream(kernelId), limit: 1 });
  return first ? { notebookId: first.metadata.notebook_id, startedBy: first.metadata.actor } : null;
}

/**
 * The threaded view of a request, read back from the log: the message with that msg_id and every
 * message whose parent it is, in the order they were recorded.
 */
export async function readThread(store: EventStore, kernelId: string, parentId: string): Promise<RawKernelMessage[]> {
  const thread: RawKernelMessage[] = [];
  for (let after = 0; ; ) {
    const page = await store.read({ stream: kernelStream(kernelId), types: ['kernel.message'], after, limit: PAGE });
    for (const event of page) {
      const data = event.payload.encoding === 'json' ? (event.payload.json as KernelMessageEventData) : null;
      if (data && (data.msg_id === parentId || data.parent_msg_id === parentId)) thread.push(rawMessageOf(data));
    }
    if (page.length < PAGE) return thread;
    after = page[page.length - 1].position;
  }
}

/** Appends `kernel.lifecycle` died to the stream of every orphan that was reaped (killed, or found gone). */
export async function recordReapedOrphans(store: EventStore, reports: readonly OrphanReport[]): Promise<void> {
  for (const report of reports.filter((r) => r.outcome !== 'pid_reused')) {
    const origin = await kernelOrigin(store, report.kernel_id);
    const reason = report.outcome === 'killed' ? 'its server stopped; killed at the next boot' : 'its server stopped; found gone at the next boot';
    await store.append({
      stream: kernelStream(report.kernel_id),
      events: [
        {
          type: 'kernel.lifecycle',
          payload: { encoding: 'json', json: { state: 'died', kernel_name: report.name, reason } },
          metadata: { actor: 'palimpsest:reaper', cell_ids: [], notebook_id: origin?.notebookId ?? null, pid: report.pid },
        },
      ],
    });
  }
}

