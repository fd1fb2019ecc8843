/**
 * A real PostgreSQL server (Debian's `postgresql` package) on a free loopback port, for as long as a
 * test file needs it: trust auth for 127.0.0.1, fsync off. Stop/start (data kept), pause (SIGSTOP of
 * the postmaster and every process it forked: a hung database) and resume are there to test outages.
 *
 * Postgres refuses to run as root, so when the tests run as root every Postgres program (initdb, cp of
 * the template, postgres, psql) runs as the `postgres` user (spawn's uid/gid: the same as `runuser -u
 * postgres --`, but the pid we hold is the postmaster's own). As any other user they run as that user.
 *
 * initdb runs once per process into a template directory (~1 s); each server gets a copy of it (in
 * /dev/shm when it is a roomy tmpfs, else the temp directory).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth: no password). */
  readonly url: string;
  readonly port: number;
  /** The postmaster's pid (the last one, after stop). */
  readonly pid: number;
  /** Stops the server (fast shutdown: clients are disconnected) and waits for it to exit; data kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data (after stop). */
  start(): Promise<void>;
  /** SIGSTOP the postmaster and its backends: connections stay open, nothing answers, new ones hang. */
  pause(): void;
  /** SIGCONT them. */
  resume(): void;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
  /** Runs SQL through psql (as postgres; unaligned, tuples only: `-A -t`) and returns its stdout. */
  query(sql: string): Promise<string>;
}

const INSTALL_HINT = "run 'bash scripts/install-system-deps.sh postgres' (or: sudo apt-get install postgresql)";
const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** The newest installed server's bin directory, e.g. /usr/lib/postgresql/15/bin. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  if (versions.length === 0) {
    throw new Error(`PostgreSQL server is not installed (no ${root}/*/bin/postgres): ${INSTALL_HINT}`);
  }
  return join(root, versions[0]!, 'bin');
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** Root → the `postgres` user; anyone else → themselves. */
function runAs(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(`running as root, and there is no 'postgres' user to run PostgreSQL as: ${INSTALL_HINT}`);
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Where data directories go: /dev/shm when it is a roomy tmpfs (creating a cluster's ~1,000 files there
 * is several times faster than on disk), else the temp directory. Docker's default 64 MB /dev/shm is not
 * roomy: a copy of the cluster is ~40 MB.
 */
let parent: string | undefined;
function parentDir(): string {
  if (parent === undefined) {
    parent = tmpdir();
    try {
      const shm = statfsSync('/dev/shm');
      if (shm.bavail * shm.bsize >= 2 ** 30) {
        accessSync('/dev/shm', constants.W_OK | constants.X_OK);
        parent = '/dev/shm';
      }
    } catch {
      // no /dev/shm: the temp directory
    }
  }
  return parent;
}

/** A directory the server's user owns (mkdtemp makes it 0700, which the data directory needs). */
function makeDir(prefix: string, user: RunAs): string {
  const dir = mkdtempSync(join(parentDir(), prefix));
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
  return dir;
}

function childEnv(): NodeJS.ProcessEnv {
  // No inherited PG* variables, no ~/.psqlrc surprises, a locale every machine has.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };
}

/** Runs a program as the server's user and resolves with its stdout; rejects with its output on failure. */
function run(command: string, args: readonly string[], user: RunAs, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { ...user, env: childEnv(), cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    proc.stderr!.on('data', (d) => (stderr += d));
    proc.once('error', reject);
    proc.once('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? code}):\n${stderr}${stdout}`));
    });
  });
}

// One initdb per process; every server starts from a copy of it.
let template: Promise<string> | undefined;
const liveDirs = new Set<string>();
const livePids = new Set<number>();
let exitHookInstalled = false;

function templateDir(bin: string, user: RunAs): Promise<string> {
  if (!template) {
    installExitHook();
    const dir = makeDir('gateway-postgres-template-', user);
    liveDirs.add(dir);
    const initdb = ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'];
    template = run(join(bin, 'initdb'), initdb, user).then(() => join(dir, 'data'));
    template.catch(() => {
      // Let the next caller try again (and say why again) rather than keep a failed template.
      template = undefined;
      liveDirs.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    });
  }
  return template;
}

/**
 * A test process that ends without close() (vitest ends its workers with SIGTERM; Ctrl-C; a crash):
 * no orphaned servers, no left-over directories — the per-process template included.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', cleanUpEverything);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanUpEverything();
      // Nobody else handles it: die of it as the process would have without this listener.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

function cleanUpEverything(): void {
  const postmasters = [...livePids];
  livePids.clear();
  for (const pid of postmasters) {
    for (const p of [pid, ...descendants(pid)]) signal(p, 'SIGCONT');
    signal(pid, 'SIGQUIT'); // immediate shutdown: the postmaster ends its children, then itself
  }
  // Synchronous code cannot wait for 'exit': watch /proc until each is a zombie (or gone), briefly.
  for (const pid of postmasters) waitForState(pid, ['Z', 'X'], 2_000);
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const user = runAs();
  const source = await templateDir(bin, user);
  const root = makeDir('gateway-postgres-', user);
  liveDirs.add(root);
  const data = join(root, 'data');
  try {
    await run('cp', ['-a', source, data], user);
  } catch (error) {
    liveDirs.delete(root);
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  let port = await freePort();
  let child: ChildProcess | undefined;
  let pid = 0;
  let paused: number[] = [];

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const args = [
        '-D', data,
        '-p', String(port),
        '-k', root, // the Unix socket lives next to the data, not in /var/run/postgresql
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
        '-c', 'max_connections=50',
        '-c', 'shared_buffers=16MB',
        '-c', 'logging_collector=off',
      ];
      const proc = spawn(join(bin, 'postgres'), args, { ...user, env: childEnv(), cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      // The log goes to stderr: read it for as long as the server runs (a full pipe would block it),
      // keeping only the tail for error messages.
      let log = '';
      let ready = false;
      const onData = (d: Buffer) => {
        log = (log + d).slice(-8_000);
        if (!ready && log.includes(READY)) {
          ready = true;
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`postgres did not become ready within ${START_TIMEOUT_MS} ms:\n${log}`));
      }, START_TIMEOUT_MS);
      proc.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      if (proc.pid !== undefined) {
        pid = proc.pid;
        livePids.add(pid);
      }
      proc.once('exit', (code, sig) => {
        if (proc.pid !== undefined) livePids.delete(proc.pid);
        clearTimeout(timer);
        if (!ready) reject(new Error(`postgres exited (${sig ?? code}) before it was ready:\n${log}`));
      });
    });

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    await launch();
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    resume();
    proc.kill('SIGINT'); // fast shutdown: disconnects clients, writes a checkpoint, keeps the data
    const timer = setTimeout(() => proc.kill('SIGQUIT'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const pause = () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const postmaster = child.pid!;
    // The postmaster first, so it forks nothing new, and only once it is really stopped list its children.
    // SIGSTOP takes effect asynchronously: return only once the kernel reports every one stopped.
    signal(postmaster, 'SIGSTOP');
    waitForState(postmaster, STOPPED, 2_000);
    const stopped = [postmaster];
    for (const p of descendants(postmaster)) {
      if (signal(p, 'SIGSTOP')) stopped.push(p);
    }
    for (const p of stopped.slice(1)) waitForState(p, STOPPED, 2_000);
    paused = stopped;
  };

  const resume = () => {
    // Children first, the postmaster last (it forks again only once its children run).
    for (const p of paused.slice().reverse()) signal(p, 'SIGCONT');
    paused = [];
  };

  // Another process may take the free port between freePort() and postgres binding it: pick another.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt < 3 && /could not (bind|create listen socket)|Address already in use/i.test(String(error))) {
        port = await freePort();
        continue;
      }
      liveDirs.delete(root);
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    get pid() {
      return pid;
    },
    start,
    stop,
    pause,
    resume,
    async close() {
      await stop();
      liveDirs.delete(root);
      rmSync(root, { recursive: true, force: true });
    },
    query: (sql: string) =>
      run(join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql], user, 30_000),
  };
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false; // already gone
  }
}

/** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const STOPPED = ['T', 't', 'Z', 'X']; // stopped, or exited meanwhile

/** Spins (briefly: signals take effect within microseconds) until /proc reports one of `states` or no process. */
function waitForState(pid: number, states: readonly string[], timeoutMs: number): void {
  if (!existsSync('/proc/self/stat')) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = procStat(pid)?.[0];
    if (state === undefined || states.includes(state)) return;
  }
}

/** Every process below `pid` (backends, checkpointer, walwriter, autovacuum...), from /proc or pgrep -P. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  if (existsSync('/proc/self/stat')) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const ppid = Number(procStat(Number(name))?.[1]);
      if (!Number.isFinite(ppid)) continue;
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    }
  } else {
    const lookup = (parent: number) =>
      spawnSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
    const walk = (parent: number) => {
      const kids = lookup(parent);
      children.set(parent, kids);
      kids.forEach(walk);
    };
    walk(pid);
  }
  const out: number[] = [];
  const visit = (parent: number) => {
    for (const kid of children.get(parent) ?? []) {
      out.push(kid);
      visit(kid);
    }
  };
  visit(pid);
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
