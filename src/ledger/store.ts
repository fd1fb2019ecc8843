/**
 * Where usage records live: an embedded PGlite (real Postgres in WASM, a directory on disk, one
 * replica) or a Postgres server (every replica writes to one database) — behind one SQL client, so
 * the same statements and migrations serve both. The schema is created and migrated at start-up by
 * numbered migrations, each applied once and recorded (under an advisory lock, so replicas starting
 * together don't race).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<{ rows: T[] }>;

export interface SqlClient {
  query: Query;
  /** Runs `fn` on one connection (a transaction, a session lock). */
  session<T>(fn: (query: Query) => Promise<T>): Promise<T>;
  /** PGlite only: `COPY … FROM '/dev/blob'` with `text` as the blob (bulk loading, far cheaper than INSERT there). */
  copy?(sql: string, text: string): Promise<void>;
  close(): Promise<void>;
  readonly kind: 'pglite' | 'postgres';
}

/** Numbered, append-only: a released migration is never edited, only followed by a new one. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'usage records',
    sql: `
      create table usage_records (
        id bigserial primary key,
        at timestamptz not null,
        request_id text,
        subject text not null,
        client text,
        operation text not null,
        provider text not null,
        model text not null,
        alias text,
        prompt_tokens integer not null default 0,
        completion_tokens integer not null default 0,
        cached_tokens integer not null default 0,
        reasoning_tokens integer not null default 0,
        tokens_estimated boolean not null default false,
        latency_ms double precision not null,
        ttft_ms double precision,
        status text not null,
        cost_usd double precision not null default 0,
        priced boolean not null
      );
      create index usage_records_at on usage_records (at);
      create index usage_records_subject_at on usage_records (subject, at);`,
  },
  {
    version: 2,
    name: 'record keys',
    // A key per record, so a batch retried after a timeout (which the database may have committed
    // after all) is not written twice. Rows from before have none (NULLs don't conflict).
    sql: `
      alter table usage_records add column record_key uuid;
      create unique index usage_records_record_key on usage_records (record_key);`,
  },
  {
    version: 3,
    name: 'record keys indexed only where set',
    // The embedded store writes no keys (see ledger.ts): indexing its NULLs cost every record a
    // B-tree insert for nothing.
    sql: `
      drop index usage_records_record_key;
      create unique index usage_records_record_key on usage_records (record_key) where record_key is not null;`,
  },
];

/** Opens the store a USAGE_DATABASE_URL names and brings its schema up to date. */
export async function openStore(url: string, statementTimeoutMs: number): Promise<SqlClient> {
  const client = url.startsWith('pglite://') ? await openPglite(url.slice('pglite://'.length)) : await openPostgres(url, statementTimeoutMs);
  try {
    await migrate(client);
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  return client;
}

/**
 * PGlite on a worker thread. PGlite runs Postgres as WASM on the thread that calls it — ~50 µs of
 * CPU per inserted record here, time the event loop would take from every request. On its own
 * thread it uses a core's spare time and the event loop only posts batches. (The worker's code is
 * given inline: a file would need a TypeScript loader when run from source.)
 *
 * Memory: creating a database (initdb) leaves ~500 MB of WASM memory behind in the thread that ran
 * it, and Postgres's default 128 MB of shared buffers are touched as it works; so a new directory is
 * initialised by a short-lived child process (a thread's memory would stay with this process's
 * allocator after the thread ended: ~160 MB, measured), and the ledger's worker runs with
 * small buffers — an append-only table and a few reports need no page cache. Measured: ~110 MB of
 * RSS for the ledger instead of ~600–800 MB.
 */
const PGLITE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
(async () => {
  const { PGlite } = await import(pathToFileURL(workerData.pglite).href);
  const db = await PGlite.create(workerData.dir, { startParams: [...PGlite.defaultStartParams, ...workerData.settings] });
  parentPort.on('message', async (message) => {
    if (message === 'close') {
      await db.close();
      parentPort.postMessage({ closed: true });
      return;
    }
    try {
      const options = message.blob === undefined ? undefined : { blob: new Blob([message.blob]) };
      const result = await db.query(message.sql, message.params, options);
      parentPort.postMessage({ id: message.id, rows: result.rows });
    } catch (error) {
      parentPort.postMessage({ id: message.id, error: (error && error.message) || String(error) });
    }
  });
  parentPort.postMessage({ ready: true });
})().catch((error) => parentPort.postMessage({ failed: (error && error.message) || String(error) }));
`;

/** Postgres settings for the embedded ledger (`-c name=value`): small buffers, see above. */
const PGLITE_SETTINGS = ['shared_buffers=8MB', 'wal_buffers=1MB', 'temp_buffers=1MB', 'work_mem=4MB', 'maintenance_work_mem=16MB'].flatMap((s) => ['-c', s]);

/** Creates the database in `dir` (initdb) in a child process, whose memory goes when it exits. */
async function initPglite(dir: string, pglite: string): Promise<void> {
  const code = `import(${JSON.stringify(pathToFileURL(pglite).href)}).then(async ({ PGlite }) => { await (await PGlite.create(process.argv[1])).close(); })`;
  const child = spawn(process.execPath, ['-e', code, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-2000)));
  const [code_, signal] = (await once(child, 'exit')) as [number | null, string | null];
  if (code_ !== 0) throw new Error(`PGlite could not create its database in ${dir} (${signal ?? `exit ${code_}`}): ${stderr.trim().split('\n').at(-1) ?? ''}`);
}

async function openPglite(dir: string): Promise<SqlClient> {
  mkdirSync(dir, { recursive: true });
  const pglite = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  if (!existsSync(join(dir, 'PG_VERSION'))) await initPglite(dir, pglite);
  const worker = new Worker(PGLITE_WORKER, { eval: true, workerData: { dir, pglite, settings: PGLITE_SETTINGS } });
  worker.unref();
  const pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (error: Error) => void }>();
  let next = 0;
  let failed: Error | undefined;
  const fail = (error: Error) => {
    failed = error;
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`PGlite worker exited (${code})`)));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (message: { ready?: boolean; failed?: string }) => (message.ready ? resolve() : reject(new Error(`PGlite: ${message.failed}`))));
    worker.once('error', reject);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  worker.on('message', (message: { id: number; rows?: unknown[]; error?: string }) => {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiting.reject(new Error(message.error));
    else waiting.resolve(message.rows ?? []);
  });
  const send = <T>(sql: string, params?: unknown[], blob?: string) => {
    if (failed) return Promise.reject(failed);
    const id = next++;
    return new Promise<{ rows: T[] }>((resolve, reject) => {
      pending.set(id, { resolve: (rows) => resolve({ rows: rows as T[] }), reject });
      worker.postMessage({ id, sql, params, blob });
    });
  };
  const query: Query = <T>(sql: string, params?: unknown[]) => send<T>(sql, params);
  return {
    kind: 'pglite',
    query,
    session: (fn) => fn(query),
    copy: async (sql, text) => void (await send(sql, [], text)),
    close: async () => {
      if (failed) return;
      worker.removeAllListeners('exit');
      const closed = new Promise<void>((resolve) => worker.once('message', () => resolve()));
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}

async function openPostgres(url: string, statementTimeoutMs: number): Promise<SqlClient> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    // A hung database must not hold the writer forever: each statement and connect gives up.
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs,
    connectionTimeoutMillis: statementTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', () => {}); // an idle client's broken connection: the next query reports it
  return {
    kind: 'postgres',
    query: async <T>(sql: string, params?: unknown[]) => ({ rows: (await pool.query(sql, params)).rows as T[] }),
    async session(fn) {
      const connection = await pool.connect();
      try {
        return await fn(async <T>(sql: string, params?: unknown[]) => ({ rows: (await connection.query(sql, params)).rows as T[] }));
      } finally {
        connection.release();
      }
    },
    close: () => pool.end(),
  };
}

const LOCK = "hashtext('graphql-inference-gateway usage migrations')";

function migrate(client: SqlClient): Promise<void> {
  return client.session(async (query) => {
    await query(`select pg_advisory_lock(${LOCK})`);
    try {
      await query('create table if not exists usage_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())');
      const done = new Set((await query<{ version: number }>('select version from usage_migrations')).rows.map((r) => Number(r.version)));
      for (const migration of MIGRATIONS) {
        if (done.has(migration.version)) continue;
        await query('begin');
        try {
          for (const statement of migration.sql.split(';').map((s) => s.trim()).filter(Boolean)) await query(statement);
          await query('insert into usage_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
          await query('commit');
        } catch (error) {
          await query('rollback');
          throw error;
        }
      }
    } finally {
      await query(`select pg_advisory_unlock(${LOCK})`);
    }
  });
}
