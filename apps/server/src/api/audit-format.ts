import type { ApiEvent } from '@palimpsest/contracts';

/** The formats of the audit export. */
export type AuditFormat = 'ndjson' | 'csv';

/** Columns of the CSV export, in order. */
export const CSV_COLUMNS = ['position', 'stream', 'version', 'type', 'actor', 'at', 'cell_ids', 'data'] as const;

/** The content type of each export format. */
export const AUDIT_CONTENT_TYPE: Record<AuditFormat, string> = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' };

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, with quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One event as a CSV record: `cell_ids` space-separated, `data` as JSON. */
export function csvRecord(event: ApiEvent): string {
  const values = [String(event.position), event.stream, String(event.version), event.type, event.actor, event.at, event.cell_ids.join(' '), JSON.stringify(event.data)];
  return `${values.map(csvField).join(',')}\r\n`;
}

/** The text that opens an export (the CSV header; nothing for NDJSON). */
export function exportPreamble(format: AuditFormat): string {
  return format === 'csv' ? `${CSV_COLUMNS.join(',')}\r\n` : '';
}

/** One event in the export's format (one line each). */
export function exportRecord(format: AuditFormat, event: ApiEvent): string {
  return format === 'csv' ? csvRecord(event) : `${JSON.stringify(event)}\n`;
}
