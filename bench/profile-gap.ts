/**
 * Where a gateway request's CPU goes beyond the floor's: `npx tsx bench/profile-gap.ts` after
 * `npx tsx bench/profile.ts floor rest` compares the two profiles' steady state (7 s ending 2 s before
 * each profile ends) per request, by area, and prints the rows sorted by the difference. Requests per
 * profile are taken from the req/s in bench/PROFILE.md's section titles (or PROFILE_RPS="floor,rest").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.js';

interface Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
const WINDOW_US = 7e6;

function areaOf(functionName: string, url: string): string {
  if (functionName === '(idle)') return 'idle';
  if (functionName === 'writev' || functionName === 'writeUtf8String' || functionName === 'writeBuffer') return 'native socket writes';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return '(program)';
  if (url.includes('undici')) return 'undici';
  if (url.startsWith('wasm')) return "undici's llhttp (wasm)";
  if (/node:_http|node:http/.test(url)) return 'node:http';
  if (/node:internal\/streams|node:stream/.test(url)) return 'node streams';
  if (/node:events|event_target|abort_controller/.test(url)) return 'events, AbortController';
  if (/timers/.test(url)) return 'timers';
  if (url.startsWith('node:')) return 'node, other';
  if (url.includes('/dist/') || url.includes('/src/')) return `gateway: ${url.replace(/.*\/(dist|src)\//, '').replace(/\.js$/, '.ts')}`;
  if (url.includes('/bench/')) return 'floor.ts';
  if (url.includes('node_modules')) return `package: ${url.replace(/.*node_modules\//, '').split('/')[0]}`;
  return url === '' ? `native: ${functionName}` : url;
}

function perRequest(dir: string, requests: number): Map<string, number> {
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()[0]!;
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const hi = p.endTime - 2e6;
  const lo = hi - WINDOW_US;
  const areas = new Map<string, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < lo || t > hi) continue;
    const frame = frames.get(p.samples[i]!)!;
    const area = areaOf(frame.functionName, frame.url);
    areas.set(area, (areas.get(area) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / requests);
  }
  return areas;
}

const rps = process.env.PROFILE_RPS?.split(',').map(Number) ?? (['the floor', 'REST JSON (POST /v1/chat/completions), auth off'].map((title) => {
  const md = readFileSync(join(ROOT, 'bench/PROFILE.md'), 'utf8');
  const m = new RegExp(`### ${title.replace(/[()/]/g, '\\$&')}.*? — (\\d+) req/s`).exec(md);
  if (!m) throw new Error(`no req/s for "${title}" in bench/PROFILE.md: pass PROFILE_RPS=floor,rest`);
  return Number(m[1]);
}) as number[]);
const floor = perRequest('/tmp/prof/floor', (rps[0]! * WINDOW_US) / 1e6);
const rest = perRequest('/tmp/prof/rest', (rps[1]! * WINDOW_US) / 1e6);
const busy = (m: Map<string, number>) => [...m].filter(([k]) => k !== 'idle').reduce((s, [, v]) => s + v, 0);
const rows = [...new Set([...floor.keys(), ...rest.keys()])]
  .filter((k) => k !== 'idle')
  .map((k) => [k, floor.get(k) ?? 0, rest.get(k) ?? 0] as const)
  .filter(([, a, b]) => Math.max(a, b) >= 0.5)
  .sort((x, y) => y[2] - y[1] - (x[2] - x[1]));
console.log(`| area | floor, µs/request | REST JSON, µs/request | difference |\n|---|---|---|---|`);
for (const [k, a, b] of rows) console.log(`| ${k} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b - a >= 0 ? '+' : '') + (b - a).toFixed(1)} |`);
console.log(`| **busy, all areas** | **${busy(floor).toFixed(1)}** | **${busy(rest).toFixed(1)}** | **+${(busy(rest) - busy(floor)).toFixed(1)}** |`);
