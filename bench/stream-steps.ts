/**
 * Charges a stream profile's samples (bench/profile-streams.ts) to the steps a chunk goes through —
 * SSE parsing, the chunk's JSON, usage capture, GraphQL execution, envelop's per-event hooks,
 * serialisation, socket writes, GC — each sample to the innermost step on its stack, and divides by
 * the number of chunks served: `npx tsx bench/stream-steps.ts /tmp/prof/graphql 114750`.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface Frame { functionName: string; url: string }
interface Node { id: number; callFrame: Frame; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [dir, chunksArg] = process.argv.slice(2);
if (!dir || !chunksArg) throw new Error('usage: stream-steps.ts <profile dir> <chunks served>');
const chunks = Number(chunksArg);
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile in ${dir}`);
const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const interval = (profile.endTime - profile.startTime) / profile.samples.length; // µs per sample

const STEPS: [string, (f: Frame) => boolean][] = [
  ['SSE parsing (eventsource-parser, parseSse)', (f) => /eventsource-parser/.test(f.url) || f.functionName === 'parseSse'],
  ['chunk JSON.parse + checks (Provider.chunks)', (f) => f.functionName === 'chunks' && /provider/.test(f.url)],
  ['usage capture + metering (Gateway.observe)', (f) => f.functionName === 'observe' && /gateway/.test(f.url)],
  ['GraphQL execution per event', (f) => /@graphql-tools\/executor|graphql-jit|\/graphql\/execution/.test(f.url) || (f.functionName === 'next' && /compiled-subscriptions|chat-stream/.test(f.url))],
  ['envelop per-event hooks', (f) => /@envelop\/core|promise-helpers/.test(f.url)],
  ['serialisation + frame write (sse-subscriptions next / REST relay)', (f) => (f.functionName === 'next' && /sse-subscriptions/.test(f.url)) || /rest\/event-stream|rest\/chat/.test(f.url)],
  ['socket writes (writev, native)', (f) => f.functionName === 'writev' || f.functionName === 'writevGeneric'],
];
const counts = new Map<string, number>([...STEPS.map(([name]) => [name, 0] as [string, number]), ['garbage collector', 0]]);
let busy = 0;
for (const id of profile.samples) {
  const leaf = byId.get(id)!.callFrame.functionName;
  if (leaf === '(idle)') continue;
  busy++;
  if (leaf === '(garbage collector)') {
    counts.set('garbage collector', counts.get('garbage collector')! + 1);
    continue;
  }
  outer: for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const frame = byId.get(cur)!.callFrame;
    for (const [name, test] of STEPS) {
      if (test(frame)) {
        counts.set(name, counts.get(name)! + 1);
        break outer;
      }
    }
  }
}
const us = (samples: number) => `${((samples * interval) / chunks).toFixed(2)} µs`;
for (const [name, n] of counts) console.log(`${name}: ${us(n)}`);
console.log(`busy per chunk: ${us(busy)}`);
