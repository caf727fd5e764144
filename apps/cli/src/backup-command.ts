import { SQLITE_FILE_NAME } from '@palimpsest/event-store';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Options of `palimpsest backup`. */
export interface BackupCommandOptions {
  /** The server's data directory (default DATA_DIR, else `./data`). */
  dataDir?: string;
  /** The directory to write the copy into: created if missing, and it must not hold a store yet. */
  to: string;
}

/**
 * Copies a SQLite store with SQLite's online backup API, which gives the store as of one commit even while
 * the server keeps writing (copying the files of a live WAL database does not). The copy is checked with
 * `PRAGMA integrity_check`; `palimpsest verify --data-dir <to>` then checks its chains and seals. Prints the
 * copy's path, event count, head position and size.
 */
export async function runBackup(options: BackupCommandOptions, out: (line: string) => void): Promise<void> {
  const source = join(resolve(options.dataDir ?? (process.env.DATA_DIR || './data')), SQLITE_FILE_NAME);
  if (!existsSync(source)) throw new Error(`no Palimpsest database at ${source}`);
  const targetDir = resolve(options.to);
  const target = join(targetDir, SQLITE_FILE_NAME);
  if (existsSync(target)) throw new Error(`${target} exists already: back up into a new directory`);
  mkdirSync(targetDir, { recursive: true });

  const live = new Database(source, { fileMustExist: true });
  try {
    live.pragma('busy_timeout = 5000');
    await live.backup(target);
  } finally {
    live.close();
  }

  const copy = new Database(target, { fileMustExist: true });
  try {
    const problems = (copy.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check);
    if (problems.join() !== 'ok') throw new Error(`the copy failed SQLite's integrity check: ${problems.join('; ')}`);
    const { events, head } = copy.prepare('SELECT COUNT(*) AS events, COALESCE(MAX(position), 0) AS head FROM events').get() as { events: number; head: number };
    out(`${target}\t${events} events\thead position ${head}\t${statSync(target).size} bytes`);
  } finally {
    copy.close();
  }
}
