import type { QueryRunner } from 'typeorm';

/**
 * Makes a table insert-only in the database itself: triggers refuse UPDATE and DELETE (and TRUNCATE on
 * PostgreSQL, through `refuse_log_change`, which the event log's migration creates).
 */
export async function refuseChanges(runner: QueryRunner, table: string): Promise<void> {
  if (runner.connection.options.type === 'postgres') {
    await runner.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION refuse_log_change()`);
    await runner.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change()`);
    return;
  }
  for (const op of ['UPDATE', 'DELETE']) {
    await runner.query(`CREATE TRIGGER ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table}
        BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`);
  }
}
