/**
 * Where usage records live: an embedded PGlite (real Postgres in WASM, a directory on disk, one
 * replica) or a Postgres server (every replica writes to one database) — behind one SQL client, so
 * the same statements and migrations serve both. The schema is created and migrated at start-up by
 * numbered migrations, each applied once and recorded (under an advisory lock, so replicas starting
 * together don't race).
 */
import { mkdirSync } from 'node:fs';

type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<{ rows: T[] }>;

export interface SqlClient {
  query: Query;
  /** Runs `fn` on one connection (a transaction, a session lock). */
  session<T>(fn: (query: Query) => Promise<T>): Promise<T>;
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

async function openPglite(dir: string): Promise<SqlClient> {
  mkdirSync(dir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dir);
  const query: Query = async <T>(sql: string, params?: unknown[]) => ({ rows: (await db.query<T>(sql, params)).rows });
  return { kind: 'pglite', query, session: (fn) => fn(query), close: () => db.close() };
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
