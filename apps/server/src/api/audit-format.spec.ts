import type { ApiEvent } from '@palimpsest/contracts';
import { describe, expect, it } from 'vitest';
import { csvField, csvRecord, exportPreamble, exportRecord } from './audit-format.js';

const event: ApiEvent = {
  position: 7,
  stream: 'notebook:n1',
  version: 3,
  id: '0190-...',
  type: 'kernel.message',
  actor: 'alice',
  at: '2026-11-22T18:00:00.123Z',
  cell_ids: ['c1', 'c2'],
  data: { msg_type: 'execute_request', content: { code: 'print("a, b")\nx' } },
};

describe('audit export formats', () => {
  it('quotes CSV fields with commas, quotes and line breaks, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('writes an event as one CSV record in the documented column order', () => {
    expect(exportPreamble('csv')).toBe('position,stream,version,type,actor,at,cell_ids,data\r\n');
    const record = csvRecord(event);
    expect(record.startsWith('7,notebook:n1,3,kernel.message,alice,2026-11-22T18:00:00.123Z,c1 c2,"{')).toBe(true);
    expect(record.endsWith('}"\r\n')).toBe(true);
    const dataField = record.slice(record.indexOf('"{') + 1, -3).replace(/""/g, '"');
    expect(JSON.parse(dataField)).toEqual(event.data);
  });

  it('writes an event as one NDJSON line with the audit shape', () => {
    expect(exportPreamble('ndjson')).toBe('');
    const line = exportRecord('ndjson', event);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(event);
  });
});
