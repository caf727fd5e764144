import type { MigrationInterface, QueryRunner } from 'typeorm';
import { refuseChanges } from './append-only.js';

/**
 * Signed seals of stream heads (truncation evidence), for SQLite and PostgreSQL: insert-only like the
 * log, so the database refuses UPDATE and DELETE (PostgreSQL reuses the log's `refuse_log_change`).
 */
export class CreateStreamSeals1764028800000 implements MigrationInterface {
  name = 'CreateStreamSeals1764028800000';

  async up(runner: QueryRunner): Promise<void> {
    const postgres = runner.connection.options.type === 'postgres';
    const [int, bytes, strict] = postgres ? ['BIGINT', 'BYTEA', ''] : ['INTEGER', 'BLOB', ' STRICT'];
    await runner.query(`CREATE TABLE stream_seals (
      stream_id  TEXT   NOT NULL,
      version    ${int} NOT NULL,
      position   ${int} NOT NULL,
      head_hash  ${bytes} NOT NULL,
      signature  ${bytes} NOT NULL,
      sealed_at  ${int} NOT NULL,
      PRIMARY KEY (stream_id, version)
    )${strict}`);
    await refuseChanges(runner, 'stream_seals');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE stream_seals');
  }
}
