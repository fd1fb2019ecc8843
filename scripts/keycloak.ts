/**
 * Downloads, starts and stops a real Keycloak (dev mode, loopback only) for end-to-end tests and
 * local development. Module API plus a CLI:
 *
 *   npx tsx scripts/keycloak.ts fetch   # download + unpack the distribution into the cache
 *   npx tsx scripts/keycloak.ts start   # run until Ctrl-C/SIGTERM (KEYCLOAK_PORT picks the port)
 *   KEYCLOAK_URL=http://127.0.0.1:8080 npx tsx scripts/keycloak.ts token
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rename, rm, symlink } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const KEYCLOAK_VERSION = '26.7.3';
export const DEFAULT_REALM_FILE = fileURLToPath(new URL('../keycloak/inference-gateway-realm.json', import.meta.url));

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;
const ADMIN_ENV = { KC_BOOTSTRAP_ADMIN_USERNAME: 'admin', KC_BOOTSTRAP_ADMIN_PASSWORD: 'admin' };

export interface RunningKeycloak {
  baseUrl: string;
  realm: string;
  issuer: string;
  tokenUrl: string;
  jwksUrl: string;
  logFile: string;
  /** Settles when the Keycloak process ends, for whatever reason, with its exit code. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface StartOptions {
  port?: number;
  realmFile?: string;
  /** Extra environment for Keycloak, e.g. KC_GATEWAY_CLIENT_SECRET. Inherited KC_* variables are dropped. */
  env?: Record<string, string>;
}

export function keycloakHome(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return process.env.KEYCLOAK_HOME || join(cache, 'graphql-inference-gateway', `keycloak-${KEYCLOAK_VERSION}`);
}

/** Ensures the distribution is unpacked in keycloakHome() and returns that directory. */
export async function fetchKeycloak(): Promise<string> {
  const home = keycloakHome();
  if (existsSync(join(home, 'bin', 'kc.sh'))) return home;
  await mkdir(dirname(home), { recursive: true });
  // Unpack beside the target and rename at the end, so an interrupted fetch never looks cached.
  const work = await mkdtemp(`${home}.partial-`);
  try {
    const artifact = `org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`;
    await run('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${work}`], work);
    const zip = join(work, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`);
    if (hasCommand('unzip')) {
      await run('unzip', ['-q', zip], work);
    } else {
      // `jar` ships with every JDK, which Keycloak needs anyway, but it drops the executable bits.
      await run('jar', ['xf', zip], work);
      const bin = join(work, `keycloak-${KEYCLOAK_VERSION}`, 'bin');
      for (const f of await readdir(bin)) if (f.endsWith('.sh')) await chmod(join(bin, f), 0o755);
    }
    await rm(zip);
    await rename(join(work, `keycloak-${KEYCLOAK_VERSION}`), home).catch((err: unknown) => {
      if (!existsSync(join(home, 'bin', 'kc.sh'))) throw err; // else a concurrent fetch won the race
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return home;
}

export async function startKeycloak(opts: StartOptions = {}): Promise<RunningKeycloak> {
  const home = await fetchKeycloak();
  const realmFile = opts.realmFile ?? DEFAULT_REALM_FILE;
  const realm = realmName(realmFile);
  const template = await ensureDbTemplate(home);
  const runDir = await createRunDir(home);
  await mkdir(join(runDir, 'data', 'h2'));
  await copyFile(template, join(runDir, 'data', 'h2', 'keycloakdb.mv.db'));
  await mkdir(join(runDir, 'data', 'import'));
  // The directory importer insists on `<realm>-realm.json` and refuses to boot otherwise.
  await copyFile(realmFile, join(runDir, 'data', 'import', `${realm}-realm.json`));
  const server = await launch(home, runDir, realm, ['--import-realm'], opts).catch(async (err: unknown) => {
    await rm(runDir, { recursive: true, force: true });
    throw err;
  });
  const issuer = `${server.baseUrl}/realms/${realm}`;
  return {
    ...server,
    realm,
    issuer,
    tokenUrl: `${issuer}/protocol/openid-connect/token`,
    jwksUrl: `${issuer}/protocol/openid-connect/certs`,
    async stop() {
      await server.stop();
      await rm(runDir, { recursive: true, force: true });
    },
  };
}

export async function getClientCredentialsToken(tokenUrl: string, clientId: string, clientSecret: string): Promise<string> {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`token request for ${clientId} failed: HTTP ${res.status} ${body}`);
  return (JSON.parse(body) as { access_token: string }).access_token;
}

/**
 * A fresh H2 database costs a schema migration plus master-realm setup, about half of every start.
 * Both are identical on every run, so do them once per distribution and copy the result; the
 * realm under test is still imported fresh each time.
 */
async function ensureDbTemplate(home: string): Promise<string> {
  const template = join(home, 'data', 'gateway-template', 'keycloakdb.mv.db');
  if (existsSync(template)) return template;
  const runDir = await createRunDir(home);
  try {
    const server = await launch(home, runDir, 'master', [], {});
    await server.stop(); // graceful, so H2 has flushed and closed the file
    await mkdir(dirname(template), { recursive: true });
    const partial = `${template}.${process.pid}.partial`;
    await copyFile(join(runDir, 'data', 'h2', 'keycloakdb.mv.db'), partial);
    await rename(partial, template);
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
  return template;
}

/**
 * A per-run Keycloak home: symlinks to the cached distribution plus a private `data` directory.
 * kc.sh resolves its own symlinks, so the run directory is handed to the JVM as a later
 * -Dkc.home.dir, which overrides the one kc.sh derives.
 */
async function createRunDir(home: string): Promise<string> {
  const runDir = await mkdtemp(join(tmpdir(), 'keycloak-run-'));
  for (const entry of await readdir(home)) {
    if (entry !== 'data') await symlink(join(home, entry), join(runDir, entry));
  }
  await mkdir(join(runDir, 'data'));
  return runDir;
}

async function launch(home: string, runDir: string, readyRealm: string, args: string[], opts: StartOptions) {
  const port = opts.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const logFile = `${runDir}.log`;
  const javaHome = newestJavaHome();
  const env: NodeJS.ProcessEnv = {
    // Inherited KC_* settings (KC_DB, KC_HOSTNAME, realm secrets...) would change build options or
    // the issuer behind the test's back; callers pass what they want in opts.env.
    ...environment((name) => !name.startsWith('KC_')),
    ...(javaHome ? { JAVA_HOME: javaHome } : {}),
    // C1 only: on two cores this cuts start-up CPU by ~40%; the server never runs long enough for C2 to pay off.
    JAVA_OPTS_APPEND: '-XX:TieredStopAtLevel=1',
    ...ADMIN_ENV,
    ...opts.env,
  };
  const kcArgs = ['start-dev', ...args, '--http-host=127.0.0.1', `--http-port=${port}`, `-Dkc.home.dir=${runDir}`];
  const log = openSync(logFile, 'w');
  // Same process group as the caller on purpose: a terminal's Ctrl-C then reaches the JVM too, and
  // nothing outlives an interrupted test run.
  const proc = spawn(join(home, 'bin', 'kc.sh'), kcArgs, { cwd: runDir, env, stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = once(proc, 'exit').then(
    ([code]) => code as number | null,
    (err: Error) => (appendFileSync(logFile, `spawn failed: ${err.message}\n`), null),
  );
  // kc.sh runs the JVM as its child (or execs into it after a rebuild), so signal both.
  const killAll = (signal: NodeJS.Signals) => {
    for (const pid of [...childPids(proc.pid), proc.pid]) {
      try {
        if (pid) process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  // A runner that exits without calling stop() must not leave a JVM or its data behind.
  const onExit = () => {
    killAll('SIGKILL');
    rmSync(runDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM'); // kc.sh forwards it to the JVM, whose shutdown closes H2 cleanly
      const timer = setTimeout(() => killAll('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  };

  const readyUrl = `${baseUrl}/realms/${readyRealm}/.well-known/openid-configuration`;
  try {
    await waitUntilReady(readyUrl, exited);
  } catch (err) {
    await stop();
    const reason = (err as Error).message;
    throw new Error(`Keycloak did not become ready at ${readyUrl}: ${reason}\nlog: ${logFile}\n${tail(logFile, 30)}`);
  }
  return { baseUrl, logFile, exited, stop };
}

async function waitUntilReady(url: string, exited: Promise<number | null>): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`process exited with code ${exitCode}`);
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.ok) return;
    await delay(250);
  }
  throw new Error(`timed out after ${READY_TIMEOUT_MS / 1000} s`);
}

/** Keycloak 26 deprecates Java 17, so prefer the newest JDK >= 21 installed; else whatever `java` is. */
function newestJavaHome(): string | undefined {
  if (process.env.KEYCLOAK_JAVA_HOME) return process.env.KEYCLOAK_JAVA_HOME;
  const jvm = '/usr/lib/jvm';
  if (!existsSync(jvm)) return undefined;
  return readdirSync(jvm)
    .map((name) => ({ dir: join(jvm, name), major: Number(/\d+/.exec(name)?.[0]) }))
    .filter((j) => j.major >= 21 && existsSync(join(j.dir, 'bin', 'java')))
    .sort((a, b) => b.major - a.major)[0]?.dir;
}

function environment(keep: (name: string) => boolean): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => keep(e[0]) && e[1] !== undefined));
}

function childPids(pid: number | undefined): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function realmName(realmFile: string): string {
  const { realm } = JSON.parse(readFileSync(realmFile, 'utf8')) as { realm?: string };
  if (!realm) throw new Error(`${realmFile} has no "realm" name`);
  return realm;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  try {
    await promisify(execFile)(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const { stderr, stdout } = err as { stderr?: string; stdout?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${stderr || stdout || String(err)}`);
  }
}

function hasCommand(cmd: string): boolean {
  return !spawnSync(cmd, ['-h'], { stdio: 'ignore' }).error;
}

function tail(file: string, lines: number): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
}

async function main(cmd: string | undefined): Promise<void> {
  switch (cmd) {
    case 'fetch':
      console.log(await fetchKeycloak());
      return;
    case 'start': {
      const started = Date.now();
      let kc: RunningKeycloak | undefined;
      const signalled = new Promise<undefined>((res) => {
        // Before Keycloak is ready there is nothing to stop in order; exiting fires the kill-on-exit hook.
        const onSignal = () => (kc ? res(undefined) : process.exit(130));
        process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      });
      const port = process.env.KEYCLOAK_PORT ? Number(process.env.KEYCLOAK_PORT) : undefined;
      // Unlike tests, a developer's shell may configure Keycloak and the realm secrets on purpose.
      kc = await startKeycloak({ port, env: environment((name) => name.startsWith('KC_')) });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`Keycloak ${KEYCLOAK_VERSION} ready in ${seconds} s (admin console: admin/admin)`);
      console.log(`KEYCLOAK_URL=${kc.baseUrl}\nissuer:    ${kc.issuer}\ntoken URL: ${kc.tokenUrl}\nlog:       ${kc.logFile}`);
      const exitCode = await Promise.race([signalled, kc.exited]);
      if (exitCode !== undefined) {
        console.error(`Keycloak exited unexpectedly (code ${exitCode}); log: ${kc.logFile}`);
        await kc.stop();
        process.exit(1);
      }
      console.log('stopping Keycloak...');
      await kc.stop();
      return;
    }
    case 'token': {
      const base = process.env.KEYCLOAK_URL;
      if (!base) throw new Error('set KEYCLOAK_URL, e.g. http://127.0.0.1:8080');
      const tokenUrl = `${base.replace(/\/$/, '')}/realms/${realmName(DEFAULT_REALM_FILE)}/protocol/openid-connect/token`;
      const clientId = process.env.KEYCLOAK_CLIENT_ID ?? 'inference-gateway-client';
      const secret = process.env.KEYCLOAK_CLIENT_SECRET ?? 'your-client-secret';
      console.log(await getClientCredentialsToken(tokenUrl, clientId, secret));
      return;
    }
    default:
      console.error('usage: tsx scripts/keycloak.ts fetch|start|token');
      process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
