import type { MigrationInterface, QueryRunner } from 'typeorm';
import { refuseChanges } from './append-only.js';

/**
 * The threaded view's index: every `kernel.message` event under its own Jupyter msg_id and its parent's,
 * so "a request and every message it caused" is an index lookup instead of a scan of the kernel's stream.
 * Derived from the hashed payload (the store writes it with each append; this backfills older events),
 * and append-only like the log.
 */
export class CreateMessageIdIndex1764201600000 implements MigrationInterface {
  name = 'CreateMessageIdIndex1764201600000';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    await runner.query(`CREATE TABLE event_msg_ids (
      msg_id   TEXT NOT NULL,
      position ${postgres ? 'BIGINT' : 'INTEGER'} NOT NULL REFERENCES events(position),
      PRIMARY KEY (msg_id, position)
    )${postgres ? '' : ' STRICT, WITHOUT ROWID'}`);
    // Both ids of every kernel message already logged (string ids only, as the store indexes them); DISTINCT
    // because a message could name itself as its parent.
    const json = postgres ? `convert_from(data, 'UTF8')::jsonb` : 'CAST(data AS TEXT)';
    const ids = ['msg_id', 'parent_msg_id'].map((field) =>
      postgres
        ? `SELECT ${json} ->> '${field}' AS msg_id, position FROM events
             WHERE type = 'kernel.message' AND data_encoding = 'json' AND jsonb_typeof(${json} -> '${field}') = 'string'`
        : `SELECT json_extract(${json}, '$.${field}') AS msg_id, position FROM events
             WHERE type = 'kernel.message' AND data_encoding = 'json' AND json_type(${json}, '$.${field}') = 'text'`,
    );
    await runner.query(`INSERT INTO event_msg_ids (msg_id, position) SELECT DISTINCT msg_id, position FROM (${ids.join(' UNION ALL ')}) AS ids`);
    await refuseChanges(runner, 'event_msg_ids');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE event_msg_ids');
  }
}
