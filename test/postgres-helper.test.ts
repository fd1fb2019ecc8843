/**
 * The Postgres test helper does what tests of the usage ledger will rely on: a real server answering
 * psql and the `pg` client; stop refuses connections and start brings the same data back; pause hangs
 * even connections opened before it (their backends are stopped too) and resume undoes it; close
 * removes the data directory.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

let db: TestPostgres;
const clients: pg.Client[] = [];

beforeAll(async () => {
  db = await startPostgres();
});
afterAll(async () => {
  db?.resume();
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  await db?.close();
});

async function connect(options: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url, ...options });
  client.on('error', () => {}); // a server stopped under it: the failing query reports it
  clients.push(client);
  await client.connect();
  return client;
}

/** state and ppid from /proc/PID/stat (after the command name, which may hold spaces). */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

const procState = (pid: number) => procStat(pid)?.state;

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((p) => procStat(p)?.ppid === pid);
}

describe('startPostgres', () => {
  it('runs a server on a loopback port that psql and the pg client reach', async () => {
    expect(db.url).toBe(`postgres://postgres@127.0.0.1:${db.port}/postgres`);
    expect(procState(db.pid)).toBeDefined();
    if (process.getuid?.() === 0) {
      // root cannot run postgres: the helper runs it as the postgres user
      expect(await db.query('select current_user')).toBe('postgres\n');
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${db.pid}/status`, 'utf8'))![1];
      expect(uid).not.toBe('0');
    }
    expect(await db.query('select 1')).toBe('1\n');
    expect(await db.query('show fsync')).toBe('off\n');

    const client = await connect();
    const { rows } = await client.query('select 1 as one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('refuses connections while stopped and keeps the data across stop and start', async () => {
    await db.query('create table kept (id int primary key, note text)');
    await db.query("insert into kept values (1, 'before the outage')");
    const connected = await connect();
    const pidBefore = db.pid;

    await db.stop(); // fast shutdown: a connected client does not hold it up
    expect(procState(pidBefore)).toBeUndefined();
    await expect(connected.query('select 1')).rejects.toThrow();
    const refused = new pg.Client({ connectionString: db.url });
    await expect(refused.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(db.query('select 1')).rejects.toThrow(/psql/);

    await db.start();
    expect(db.pid).not.toBe(pidBefore);
    const client = await connect();
    const { rows } = await client.query('select id, note from kept');
    expect(rows).toEqual([{ id: 1, note: 'before the outage' }]);
    expect(await db.query('select note from kept where id = 1')).toBe('before the outage\n');
  });

  it('pause hangs open connections and new ones; resume brings both back', async () => {
    // Connected before the pause: its backend already exists, so only stopping backends hangs it.
    const open = await connect({ query_timeout: 1_000 });
    expect((await open.query('select 2 as two')).rows).toEqual([{ two: 2 }]);

    db.pause();
    try {
      expect(procState(db.pid)).toBe('T');
      const children = childrenOf(db.pid);
      expect(children.length).toBeGreaterThan(1); // the open connection's backend, checkpointer, walwriter…
      for (const child of children) expect(procState(child)).toBe('T');

      const started = Date.now();
      await expect(open.query('select 3')).rejects.toThrow('Query read timeout');
      expect(Date.now() - started).toBeLessThan(5_000);
      const fresh = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 1_000 });
      fresh.on('error', () => {});
      await expect(fresh.connect()).rejects.toThrow(/timeout/i);
    } finally {
      db.resume();
    }

    for (const child of [db.pid, ...childrenOf(db.pid)]) expect(procState(child)).not.toBe('T');
    expect((await open.query('select 4 as four')).rows).toEqual([{ four: 4 }]);
    const client = await connect();
    expect((await client.query('select 5 as five')).rows).toEqual([{ five: 5 }]);
    expect(await db.query('select 6')).toBe('6\n');
  });

  it('close stops the server and removes its data directory; servers are independent', async () => {
    const other = await startPostgres();
    try {
      expect(other.port).not.toBe(db.port);
      const dataDir = (await other.query('show data_directory')).trim();
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
      // a fresh copy of the template: nothing from the other server's tests
      expect(await other.query("select count(*) from pg_tables where tablename = 'kept'")).toBe('0\n');
      const pid = other.pid;

      await other.close();
      expect(procState(pid)).toBeUndefined();
      expect(existsSync(dataDir)).toBe(false);
      expect(existsSync(dirname(dataDir))).toBe(false);
      await expect(new pg.Client({ connectionString: other.url }).connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await other.close();
    }
    expect(await db.query('select 1')).toBe('1\n');
  });
});
