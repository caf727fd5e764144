import { describe, expect, it } from 'vitest';
import { redisKeyPrefix } from './server.config.js';

describe(redisKeyPrefix.name, () => {
  const postgres = (url: string, schema = 'public') => redisKeyPrefix({ databaseUrl: url, databaseSchema: schema, dataDir: '/srv/a' });

  it('puts the nodes of one PostgreSQL log on the same channels, however they reach the database', () => {
    expect(postgres('postgres://app@db-1:5432/notebooks')).toBe(postgres('postgresql://other:secret@10.0.0.7/notebooks?sslmode=require'));
    expect(postgres('postgres://app@db-1/notebooks')).toMatch(/^palimpsest:[0-9a-f]{16}:$/);
  });

  it('keeps another database, another schema and every SQLite server apart', () => {
    const prefixes = [
      postgres('postgres://app@db-1/notebooks'),
      postgres('postgres://app@db-1/staging'),
      postgres('postgres://app@db-1/notebooks', 'tenant_b'),
      redisKeyPrefix({ databaseUrl: undefined, databaseSchema: 'public', dataDir: '/srv/a' }),
      redisKeyPrefix({ databaseUrl: undefined, databaseSchema: 'public', dataDir: '/srv/b' }),
    ];
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });
});
