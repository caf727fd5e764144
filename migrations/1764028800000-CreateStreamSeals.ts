import type { MigrationInterface, QueryRunner } from 'typeorm';

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
    if (postgres) {
      await runner.query(`CREATE TRIGGER stream_seals_append_only BEFORE UPDATE OR DELETE ON stream_seals
        FOR EACH ROW EXECUTE FUNCTION refuse_log_change()`);
      await runner.query(`CREATE TRIGGER stream_seals_no_truncate BEFORE TRUNCATE ON stream_seals
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change()`);
      return;
    }
    for (const op of ['UPDATE', 'DELETE']) {
      await runner.query(`CREATE TRIGGER stream_seals_no_${op.toLowerCase()} BEFORE ${op} ON stream_seals
        BEGIN SELECT RAISE(ABORT, 'stream_seals is append-only'); END`);
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE stream_seals');
  }
}
