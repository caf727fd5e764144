import { readPages, toApiEvent, type EventStore, type ReadQuery } from '@palimpsest/event-store';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { exportPreamble, exportRecord, type AuditFormat } from './audit-format.js';

/** Events read per page of an export: what the exporter holds in memory at a time. */
export const EXPORT_PAGE = 1000;

/**
 * Streams every event matching the query to `out`, page by page, waiting for the socket to drain
 * when it is full and stopping when the client goes away: memory stays one page whatever the log's size.
 * Returns how many events were written.
 */
export async function writeAuditExport(
  store: Pick<EventStore, 'read'>,
  query: Omit<ReadQuery, 'limit'>,
  format: AuditFormat,
  out: Writable,
  onProgress?: (written: number) => void,
): Promise<number> {
  let written = 0;
  const write = async (chunk: string): Promise<void> => {
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
  };
  await write(exportPreamble(format));
  for await (const page of readPages(store, query, EXPORT_PAGE)) {
    if (out.destroyed) break;
    await write(page.map((event) => exportRecord(format, toApiEvent(event))).join(''));
    written += page.length;
    onProgress?.(written);
  }
  return written;
}
