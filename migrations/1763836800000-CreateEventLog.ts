import type { MigrationInterface, QueryRunner } from 'typeorm';
import { refuseChanges } from './append-only.js';

/**
 * The append-only event log, its cell index and the Yjs checkpoint cache, for SQLite and PostgreSQL.
 * The logical schema is the same on both; the database itself refuses UPDATE and DELETE on the log.
 */
export class CreateEventLog1763836800000 implements MigrationInterface {
  name = 'CreateEventLog1763836800000';

  async up(runner: QueryRunner): Promise<void> {
    if (runner.connection.options.type === 'postgres') await this.upPostgres(runner);
    else await this.upSqlite(runner);
  }

  private async upSqlite(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE events (
      position       INTEGER PRIMARY KEY,
      event_id       TEXT    NOT NULL UNIQUE,
      stream_id      TEXT    NOT NULL,
      stream_version INTEGER NOT NULL,
      type           TEXT    NOT NULL,
      data_encoding  TEXT    NOT NULL,
      data           BLOB    NOT NULL,
      metadata       BLOB    NOT NULL,
      actor          TEXT    NOT NULL,
      notebook_id    TEXT,
      recorded_at    INTEGER NOT NULL,
      prev_hash      BLOB,
      hash           BLOB    NOT NULL,
      UNIQUE (stream_id, stream_version)
    ) STRICT`);
    await runner.query(`CREATE TABLE event_cells (
      cell_id  TEXT    NOT NULL,
      position INTEGER NOT NULL REFERENCES events(position),
      PRIMARY KEY (cell_id, position)
    ) STRICT, WITHOUT ROWID`);
    for (const table of ['events', 'event_cells']) await refuseChanges(runner, table);
    await runner.query(`CREATE TABLE doc_checkpoints (
      stream_id      TEXT    NOT NULL,
      stream_version INTEGER NOT NULL,
      position       INTEGER NOT NULL,
      state          BLOB    NOT NULL,
      created_at     INTEGER NOT NULL,
      PRIMARY KEY (stream_id, stream_version)
    ) STRICT`);
    await this.createIndexes(runner);
  }

  private async upPostgres(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE events (
      position       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id       UUID   NOT NULL UNIQUE,
      stream_id      TEXT   NOT NULL,
      stream_version BIGINT NOT NULL,
      type           TEXT   NOT NULL,
      data_encoding  TEXT   NOT NULL,
      data           BYTEA  NOT NULL,
      metadata       BYTEA  NOT NULL,
      actor          TEXT   NOT NULL,
      notebook_id    TEXT,
      recorded_at    BIGINT NOT NULL,
      prev_hash      BYTEA,
      hash           BYTEA  NOT NULL,
      UNIQUE (stream_id, stream_version)
    )`);
    await runner.query(`CREATE TABLE event_cells (
      cell_id  TEXT   NOT NULL,
      position BIGINT NOT NULL REFERENCES events(position),
      PRIMARY KEY (cell_id, position)
    )`);
    await runner.query(`CREATE FUNCTION refuse_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`);
    for (const table of ['events', 'event_cells']) await refuseChanges(runner, table);
    await runner.query(`CREATE TABLE doc_checkpoints (
      stream_id      TEXT   NOT NULL,
      stream_version BIGINT NOT NULL,
      position       BIGINT NOT NULL,
      state          BYTEA  NOT NULL,
      created_at     BIGINT NOT NULL,
      PRIMARY KEY (stream_id, stream_version)
    )`);
    await this.createIndexes(runner);
  }

  private async createIndexes(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX events_notebook_position ON events (notebook_id, position)');
    await runner.query('CREATE INDEX events_type_position ON events (type, position)');
    await runner.query('CREATE INDEX events_actor_position ON events (actor, position)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE doc_checkpoints');
    await runner.query('DROP TABLE event_cells');
    await runner.query('DROP TABLE events');
    if (runner.connection.options.type === 'postgres') await runner.query('DROP FUNCTION refuse_log_change()');
  }
}
