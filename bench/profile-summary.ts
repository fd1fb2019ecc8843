/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): the top functions by self time, by area
 * (src/ file, node_modules package, Node internals, GC), and the heaviest src/ and package functions
 * by inclusive time. Locations in dist/ are mapped back to src/ through the build's source maps.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile | dir> [--top 25] [--skip-ms N]
 *
 * `--skip-ms` ignores the first N ms of samples (start-up, module loading, warm-up).
 * Percentages are of busy time: samples that were not `(idle)`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './lib.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Entry {
  name: string;
  location: string;
  area: string;
  ms: number;
  /** % of busy time. */
  pct: number;
  /** % of busy time without socket writes (see WRITES). */
  pctCpu: number;
}

export interface Summary {
  file: string;
  busyMs: number;
  idleMs: number;
  /** Self time of the native socket writes (WRITES). */
  writesMs: number;
  self: Entry[];
  areas: { area: string; ms: number; pct: number; pctCpu: number }[];
  inclusive: Entry[];
}

/**
 * Native socket writes. V8's sampler counts wall time, so a write that wakes the peer and gets this
 * thread preempted (a busy 2-core machine) counts as time "in" the write: mostly waiting, not work.
 * The second percentage leaves them out.
 */
const WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString']);

const maps = new Map<string, SourceMap | null>();
function sourceMapFor(file: string): SourceMap | null {
  if (!maps.has(file)) {
    let map: SourceMap | null = null;
    const mapFile = `${file}.map`;
    if (existsSync(mapFile)) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
      } catch {
        map = null;
      }
    }
    maps.set(file, map);
  }
  return maps.get(file)!;
}

/** `src/rest/chat.ts:42`, `node_modules/graphql/execution/execute.js:120`, `node:internal/…`. */
function locate(frame: CallFrame): { location: string; area: string } {
  const { url } = frame;
  if (!url) return { location: '', area: frame.functionName.startsWith('(') ? frame.functionName : '(native)' };
  if (url.startsWith('wasm:')) return { location: url, area: 'wasm (undici\'s llhttp)' };
  if (url.startsWith('node:')) return { location: `${url}:${frame.lineNumber + 1}`, area: url.startsWith('node:internal') ? 'node internals' : url };
  let file = url.startsWith('file://') ? fileURLToPath(url) : url;
  let line = frame.lineNumber + 1;
  const map = file.includes('/dist/') ? sourceMapFor(file) : null;
  if (map) {
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number };
    if (entry?.originalSource) {
      const src = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(dirname(file), entry.originalSource);
      file = src;
      line = (entry.originalLine ?? 0) + 1;
    }
  }
  const rel = relative(ROOT, file);
  const location = `${rel}:${line}`;
  const nm = rel.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = rel.slice(nm + 'node_modules/'.length).split('/');
    return { location, area: parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]! };
  }
  return { location, area: rel.startsWith('..') ? file : rel };
}

export function summarise(file: string, { top = 25, skipMs = 0 } = {}): Summary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  const info = new Map<number, { key: string; name: string; location: string; area: string }>();
  const nodeInfo = (id: number) => {
    let i = info.get(id);
    if (!i) {
      const frame = byId.get(id)!.callFrame;
      const { location, area } = locate(frame);
      const name = frame.functionName || '(anonymous)';
      i = { key: `${name} ${location}`, name, location, area };
      info.set(id, i);
    }
    return i;
  };

  const self = new Map<string, Entry>();
  const inclusive = new Map<string, Entry>();
  const inclusiveWrites = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let writes = 0;
  let t = 0;
  const skipUs = skipMs * 1000;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < skipUs) continue;
    // A sample's weight is the time until the next one.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const ms = us / 1000;
    const id = profile.samples[i]!;
    const leaf = nodeInfo(id);
    if (leaf.name === '(idle)') {
      idle += ms;
      continue;
    }
    busy += ms;
    const isWrite = !leaf.location && WRITES.has(leaf.name);
    if (isWrite) writes += ms;
    const s = self.get(leaf.key) ?? { name: leaf.name, location: leaf.location, area: leaf.area, ms: 0, pct: 0, pctCpu: 0 };
    s.ms += ms;
    self.set(leaf.key, s);
    areas.set(leaf.area, (areas.get(leaf.area) ?? 0) + ms);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = nodeInfo(n);
      if (seen.has(f.key) || f.name === '(root)') continue;
      seen.add(f.key);
      const e = inclusive.get(f.key) ?? { name: f.name, location: f.location, area: f.area, ms: 0, pct: 0, pctCpu: 0 };
      e.ms += ms;
      if (isWrite) inclusiveWrites.set(f.key, (inclusiveWrites.get(f.key) ?? 0) + ms);
      inclusive.set(f.key, e);
    }
  }
  const cpu = busy - writes;
  const pct = (e: Entry) => ({ ...e, pct: busy ? (100 * e.ms) / busy : 0, pctCpu: !e.location && WRITES.has(e.name) ? NaN : cpu ? (100 * e.ms) / cpu : 0 });
  const sorted = (m: Map<string, Entry>) => [...m.values()].sort((a, b) => b.ms - a.ms).map(pct);
  const inclusiveSorted = [...inclusive]
    .map(([key, e]) => ({ ...pct(e), pctCpu: cpu ? (100 * (e.ms - (inclusiveWrites.get(key) ?? 0))) / cpu : 0 }))
    .sort((a, b) => b.pctCpu - a.pctCpu);
  // Inclusive: only our code and packages, minus promise plumbing and the frames every request passes through.
  const PLUMBING = new Set(['@whatwg-node/promise-helpers']);
  const generic = /^(processTicksAndRejections|emit|parserOnIncoming|parserOnHeadersComplete|parserOnMessageComplete|runMicrotasks|listOnTimeout|processTimers|onStreamRead|\(anonymous\)|\(program\)|\(garbage collector\))$/;
  return {
    file,
    busyMs: busy,
    idleMs: idle,
    writesMs: writes,
    self: sorted(self).slice(0, top),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([area, ms]) => ({ area, ms, pct: busy ? (100 * ms) / busy : 0, pctCpu: cpu ? (100 * (area === '(native)' ? ms - writes : ms)) / cpu : 0 }))
      .slice(0, 15),
    inclusive: inclusiveSorted
      .filter((e) => e.location && !e.location.startsWith('node:') && !e.location.startsWith('wasm:') && !generic.test(e.name) && !PLUMBING.has(e.area))
      .slice(0, top),
  };
}

export function toMarkdown(s: Summary, title = relative(ROOT, s.file)): string {
  const p = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)}%` : '—');
  const row = (e: Entry) => `| ${p(e.pct)} | ${p(e.pctCpu)} | ${e.ms.toFixed(0)} | \`${e.name}\` | ${e.location || '—'} |`;
  const head = ['| % busy | % excl. writes | ms | function | location |', '|---|---|---|---|---|'];
  return [
    `### ${title}`,
    '',
    `Busy ${(s.busyMs / 1000).toFixed(2)} s (of which native socket writes ${(s.writesMs / 1000).toFixed(2)} s), idle ${(s.idleMs / 1000).toFixed(2)} s.`,
    '"% excl. writes" leaves the socket writes out (mostly preemption on this machine; see the note at the top).',
    '',
    '**Self time by area**',
    '',
    '| % busy | % excl. writes | ms | area |',
    '|---|---|---|---|',
    ...s.areas.map((a) => `| ${p(a.pct)} | ${p(a.pctCpu)} | ${a.ms.toFixed(0)} | ${a.area} |`),
    '',
    '**Top functions by self time**',
    '',
    ...head,
    ...s.self.map(row),
    '',
    '**Heaviest functions in src/ and packages, inclusive time** (sorted by the time excluding writes)',
    '',
    ...head,
    ...s.inclusive.map(row),
    '',
  ].join('\n');
}

/** The newest `.cpuprofile` in a directory (or the file itself). */
export function newestProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${path}`);
  return files[0];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    if (i === -1) return fallback;
    const v = Number(args[i + 1]);
    args.splice(i, 2);
    return v;
  };
  const top = opt('--top', 25);
  const skipMs = opt('--skip-ms', 0);
  if (!args[0]) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile | dir> [--top N] [--skip-ms N]');
    process.exit(2);
  }
  console.log(toMarkdown(summarise(newestProfile(args[0]), { top, skipMs })));
}
