import { describe, expect, it } from 'vitest';
import { parseEventsQuery, parseSubscribe } from './events-query.js';

describe(parseEventsQuery.name, () => {
  it('parses every filter', () => {
    const query = parseEventsQuery(
      { after: '5', limit: '10', type: 'a.b,c.d', actor: 'alice', cell_id: 'c1', since: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00.000Z' },
      'nb',
    );
    expect(query).toEqual({
      notebookId: 'nb',
      after: 5,
      limit: 10,
      types: ['a.b', 'c.d'],
      actor: 'alice',
      cellId: 'c1',
      since: Date.parse('2026-01-01T00:00:00Z'),
      until: Date.parse('2026-01-02T00:00:00Z'),
    });
  });

  it.each([
    [{ after: '-1' }, 'after'],
    [{ after: 'x' }, 'after'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '5000' }, 'limit'],
    [{ since: 'yesterday' }, 'since'],
  ])('rejects %j with BAD_REQUEST naming %s', (raw, name) => {
    expect(() => parseEventsQuery(raw, 'nb')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringContaining(name) }));
  });
});

describe(parseSubscribe.name, () => {
  it('rejects a payload without notebook_id', () => {
    expect(() => parseSubscribe({ after: 1 })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it('accepts notebook_id, after and types', () => {
    expect(parseSubscribe({ notebook_id: 'n', after: 3, types: ['kernel.message'] })).toEqual({ notebookId: 'n', after: 3, types: ['kernel.message'] });
  });
});
