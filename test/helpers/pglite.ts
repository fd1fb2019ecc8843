/**
 * Fresh PGlite databases for usage-ledger tests, fast. Creating a PGlite data directory runs initdb
 * in WASM (~7 s); a copy of a closed one opens in well under a second. So the first call makes a
 * template directory (once per test process), and every call copies it into a new temporary
 * directory. Everything is removed when the process exits.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

let template: Promise<string> | undefined;
const dirs = new Set<string>();
let hooked = false;

function cleanUp(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
  template = undefined;
}

function tempDir(prefix: string): string {
  if (!hooked) {
    hooked = true;
    process.once('exit', cleanUp);
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Starts making the template now (call it early, e.g. in beforeAll, to overlap it with other set-up). */
export function warmPglite(): Promise<string> {
  template ??= (async () => {
    const dir = join(tempDir('gateway-pglite-template-'), 'data');
    const db = await PGlite.create(dir);
    await db.close();
    return dir;
  })();
  template.catch(() => (template = undefined));
  return template;
}

/** A new, empty PGlite data directory (its own copy: nothing shared with other tests). */
export async function freshPgliteDir(): Promise<string> {
  const source = await warmPglite();
  const dir = join(tempDir('gateway-pglite-'), 'data');
  cpSync(source, dir, { recursive: true });
  return dir;
}

/** Runs `fn` on the PGlite database in `dir` (nothing else may have it open), then closes it. */
export async function withPglite<T>(dir: string, fn: (db: PGlite) => Promise<T>): Promise<T> {
  const db = await PGlite.create(dir);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Removes every directory made so far (afterAll). */
export function removePgliteDirs(): void {
  cleanUp();
}
