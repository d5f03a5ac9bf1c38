import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';
import type { Config } from '../config';
import { createSqlMessageStore, type MessageStore, type SqlPort } from './message-store';
export type { IdempotencyClaim, IdempotencyKeys, IdempotentAnswer } from './idempotency';

export {
  MessageConflictError,
  InvalidMessageQueryError,
  MAX_PAGE_SIZE,
  type ListMessagesQuery,
  type MessagePage,
  type MessageStore,
} from './message-store';

/**
 * Opens the message store the configuration names:
 * - `DATABASE_URL=postgres://...`: that PostgreSQL (production; shared by worker and API);
 * - `DATABASE_URL=memory://`: an in-memory PGlite, gone on close (tests);
 * - unset: an embedded PGlite in `<TEMPORAL_DATA_DIR>/messages`. PGlite is one process's database,
 *   so this serves `npm start` only; worker and API as separate processes need DATABASE_URL.
 */
export async function openMessageStore(config: Pick<Config, 'DATABASE_URL' | 'TEMPORAL_DATA_DIR'>): Promise<MessageStore> {
  const url = config.DATABASE_URL;
  if (url && url !== 'memory://') {
    // A database that cannot be reached fails the call (an activity retries) instead of hanging it.
    const pool = new Pool({ connectionString: url, connectionTimeoutMillis: 10_000 });
    // An idle connection that drops is replaced by the pool; without a listener it would crash the process.
    pool.on('error', () => {});
    const port: SqlPort = {
      async query<T>(text: string, params?: unknown[]) {
        return { rows: (await pool.query(text, params)).rows as T[] };
      },
    };
    return createSqlMessageStore(port, () => pool.end()).catch(async (err) => {
      await pool.end();
      throw err;
    });
  }
  let dataDir: string | undefined;
  let unlock = () => {};
  if (!url) {
    dataDir = join(resolve(config.TEMPORAL_DATA_DIR), 'messages');
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  const db = await PGlite.create(dataDir).catch((err) => {
    unlock();
    throw err;
  });
  const closeDb = async () => {
    await db.close();
    unlock();
  };
  const port: SqlPort = {
    // PGlite's query() takes one statement; exec() several, without parameters.
    async query<T>(text: string, params?: unknown[]) {
      if (params) return db.query<T>(text, params);
      return { rows: ((await db.exec(text)).at(-1)?.rows ?? []) as T[] };
    },
  };
  return createSqlMessageStore(port, closeDb).catch(async (err) => {
    await closeDb();
    throw err;
  });
}

/**
 * PGlite does not lock its directory, and two processes writing one would corrupt it: the first
 * takes `<dir>.lock` (its pid); a second is refused while that process lives.
 */
function lockDataDir(dir: string): () => void {
  const file = `${dir}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = Number(readFileSync(file, 'utf8'));
    if (isRunning(holder)) {
      throw new Error(
        `the embedded message store ${dir} is open in process ${holder}; worker and API as separate ` +
          `processes need DATABASE_URL (if no coexist process ${holder} runs, delete ${file})`,
      );
    }
    rmSync(file, { force: true }); // left by a process that is gone
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
