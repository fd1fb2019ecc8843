/**
 * The Grafana dashboard in k8s/base/monitoring/ against the metrics a real gateway exposes. Every metric a
 * panel or a variable queries must be in the gateway's /metrics (its `# TYPE` line: histogram series
 * `_bucket`/`_count`/`_sum` count as their histogram), and every label a query groups by, filters on or
 * names in a legend must be on that metric's series. A renamed metric or label fails here, not as an
 * empty panel in production. No Grafana, no Prometheus: the PromQL is taken apart by a small scanner
 * (tested below) that knows the subset of PromQL a dashboard uses.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fakes/fake-provider.js';
import { postJson, readSseData, startTestGateway, type TestGateway } from './helpers/gateway.js';

const DASHBOARD_PATH = fileURLToPath(new URL('../k8s/base/monitoring/gateway-dashboard.json', import.meta.url));

// ---- the dashboard -------------------------------------------------------------------------------

interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
/** Every panel, those inside collapsed rows included; rows themselves are not queries. */
const panels = (list: Panel[] = dashboard.panels): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
const queryPanels = () => panels().filter((p) => p.type !== 'row');
const queries = () => queryPanels().flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, target: t, expr: t.expr ?? '' })));
const queryVariables = () => dashboard.templating.list.filter((v) => v.type === 'query');
const variableQuery = (v: Variable) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));

// ---- PromQL, taken apart -------------------------------------------------------------------------

const AGGREGATIONS = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'];
const FUNCTIONS = new Set([
  ...AGGREGATIONS,
  ...['abs', 'absent', 'absent_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'day_of_month', 'day_of_week', 'day_of_year'],
  ...['days_in_month', 'delta', 'deriv', 'exp', 'floor', 'histogram_avg', 'histogram_count', 'histogram_fraction', 'histogram_quantile'],
  ...['histogram_stddev', 'histogram_stdvar', 'histogram_sum', 'hour', 'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'ln'],
  ...['log2', 'log10', 'minute', 'month', 'predict_linear', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sort', 'sort_desc', 'sort_by_label'],
  ...['sort_by_label_desc', 'sqrt', 'time', 'timestamp', 'vector', 'year', 'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time'],
  ...['count_over_time', 'quantile_over_time', 'stddev_over_time', 'stdvar_over_time', 'last_over_time', 'present_over_time'],
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Labels Prometheus adds when it scrapes (the annotation-based pod discovery in k8s/), never in /metrics itself. */
const SCRAPE_LABELS = new Set(['namespace']);

interface Analysis {
  /** Metric names as queried (`…_bucket` included), each with the label names its matchers use. */
  metrics: Map<string, Set<string>>;
  /** Labels of every `by (…)` clause. */
  by: Set<string>;
  functions: Set<string>;
  /** Anything the scanner could not place: `without`, `{__name__=…}`, unknown functions. */
  problems: string[];
}

function analyse(expr: string): Analysis {
  const metrics = new Map<string, Set<string>>();
  const by = new Set<string>();
  const functions = new Set<string>();
  const problems: string[] = [];
  const use = (name: string) => metrics.get(name) ?? metrics.set(name, new Set()).get(name)!;

  // Strings go first (a matcher value may hold anything), then matchers, ranges, grouping clauses.
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}/g, (_all, name: string | undefined, matchers: string) => {
    if (!name) {
      problems.push(`a selector without a metric name: {${matchers}}`);
      return ' ';
    }
    for (const m of matchers.matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) use(name).add(m[1]!);
    return ` ${name} `;
  });
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_all, clause: string, labels: string) => {
    const names = labels.split(',').map((l) => l.trim()).filter(Boolean);
    if (clause === 'by') names.forEach((l) => by.add(l));
    if (clause === 'without') problems.push('`without (…)`: which labels survive depends on the series, so legends cannot be checked');
    return ' ';
  });
  s = s.replace(/\boffset\s+-?[\w$]+/g, ' ');
  s = s.replace(/(?<![\w:])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w:])/gi, ' ');
  for (const m of s.matchAll(/([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, word, call] = m;
    if (call) {
      if (FUNCTIONS.has(word!)) functions.add(word!);
      else problems.push(`unknown function ${word}()`);
    } else if (!KEYWORDS.has(word!.toLowerCase()) && !AGGREGATIONS.includes(word!)) use(word!);
  }
  return { metrics, by, functions, problems };
}

/** `label_values(metric{…}, label)`: the metric, its matchers' labels, and the label. */
function analyseVariable(query: string): { metric: string; labels: Set<string> } | undefined {
  const m = /^\s*label_values\(\s*(.+?)\s*,\s*([A-Za-z_]\w*)\s*\)\s*$/.exec(query);
  if (!m) return undefined;
  const inner = analyse(m[1]!);
  const [metric, labels] = [...inner.metrics][0] ?? [];
  return metric ? { metric, labels: new Set([...(labels ?? []), m[2]!]) } : undefined;
}

// ---- the exposition -----------------------------------------------------------------------------

interface Family {
  type: string;
  /** Label names seen on the family's samples (`le` on a histogram's buckets). */
  labels: Set<string>;
  samples: number;
}

function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, { type: m[2]!, labels: new Set(), samples: 0 });
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    const family = families.get(m[1]!) ?? families.get(m[1]!.replace(/_(bucket|count|sum)$/, ''));
    if (!family) continue;
    family.samples++;
    for (const label of (m[2] ?? '').matchAll(/([A-Za-z_]\w*)="(?:[^"\\]|\\.)*"/g)) family.labels.add(label[1]!);
  }
  return families;
}

/** The family a queried name belongs to: itself, or the histogram whose `_bucket`/`_count`/`_sum` it is. */
function familyName(name: string, families: Map<string, Family>): string {
  if (families.has(name)) return name;
  return name.replace(/_(bucket|count|sum)$/, '');
}

// ---- a real gateway ------------------------------------------------------------------------------

const PROVIDER_KEY = 'sk-dashboard-test-key';
const HI = [{ role: 'user', content: 'hi' }];
let groq: FakeProvider;
let gw: TestGateway;
let ledgerDir: string;
let exposition = '';
let families: Map<string, Family>;

beforeAll(async () => {
  groq = await startFakeProvider({ basePath: '/openai/v1', apiKey: PROVIDER_KEY, models: ['llama'] });
  ledgerDir = mkdtempSync(join(tmpdir(), 'gateway-dashboard-ledger-'));
  gw = await startTestGateway({
    GROQ_API_URL: groq.url,
    GROQ_API_KEY: PROVIDER_KEY,
    // A fallback alias whose first target fails: one hand-over.
    MODEL_FALLBACKS: JSON.stringify({ smart: ['groq/fail-500', 'groq/llama'] }),
    // A small budget, spent below: refusals.
    RATE_LIMIT_REQUESTS_PER_MINUTE: '5',
    // Priced, so calls cost something; the ledger in a throwaway embedded database.
    MODEL_PRICES: JSON.stringify({ 'groq/*': { input: 1, output: 2 } }),
    USAGE_DATABASE_URL: `pglite://${ledgerDir}`,
  });
  const chat = (body: object) => postJson(`${gw.url}/v1/chat/completions`, body);
  expect((await chat({ model: 'groq/llama', messages: HI })).status).toBe(200);
  const stream = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'groq/llama', messages: HI, stream: true }),
  });
  expect((await readSseData(stream)).at(-1)).toBe('[DONE]');
  expect((await chat({ model: 'smart', messages: HI })).status).toBe(200);
  let status = 200;
  for (let i = 0; i < 10 && status !== 429; i++) status = (await chat({ model: 'groq/llama', messages: HI })).status;
  expect(status, 'the budget of 5 requests per minute runs out').toBe(429);

  const res = await fetch(`${gw.url}/metrics`);
  expect(res.status).toBe(200);
  exposition = await res.text();
  families = parseExposition(exposition);
});
afterAll(async () => {
  await gw?.close();
  await groq?.close();
  if (ledgerDir) rmSync(ledgerDir, { recursive: true, force: true });
});

// ---- tests -----------------------------------------------------------------------------------

describe('the PromQL scanner', () => {
  it('finds metrics, matcher labels, grouping labels and functions', () => {
    const a = analyse(
      'histogram_quantile(0.95, sum by (le, transport) (rate(gateway_overhead_seconds_bucket{namespace=~"$namespace", x!="a{b}"}[$__rate_interval]))) / on() group_left sum(up) > bool 1e-3 or vector(0)',
    );
    expect([...a.metrics.keys()].sort()).toEqual(['gateway_overhead_seconds_bucket', 'up']);
    expect([...a.metrics.get('gateway_overhead_seconds_bucket')!].sort()).toEqual(['namespace', 'x']);
    expect([...a.by].sort()).toEqual(['le', 'transport']);
    expect([...a.functions].sort()).toEqual(['histogram_quantile', 'rate', 'sum', 'vector']);
    expect(a.problems).toEqual([]);
    expect(analyse('sum(rate(a_total[5m])) by (x) * 3600').by).toEqual(new Set(['x']));
    expect(analyse('rate(a_total[5m] offset 1h)').metrics.has('a_total')).toBe(true);
    expect(analyse('raet(a_total[5m])').problems).toEqual(['unknown function raet()']);
    expect(analyse('{__name__="a"}').problems).toHaveLength(1);
  });

  it('reads label_values() variables', () => {
    expect(analyseVariable('label_values(gateway_subject_tokens_total{namespace=~"$namespace"}, subject)')).toEqual({
      metric: 'gateway_subject_tokens_total',
      labels: new Set(['namespace', 'subject']),
    });
  });
});

describe('k8s/base/monitoring/gateway-dashboard.json', () => {
  it('is a Grafana dashboard of schema 38 or later with a stable uid', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
  });

  it('queries Prometheus only through the ${DS_PROMETHEUS} datasource variable (no instance-specific uid)', () => {
    const ds = dashboard.templating.list.find((v) => v.name === 'DS_PROMETHEUS');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const wrong: string[] = [];
    const check = (where: string, d: Target['datasource']) => {
      if (d?.type !== 'prometheus' || d.uid !== '${DS_PROMETHEUS}') wrong.push(`${where}: ${JSON.stringify(d)}`);
    };
    for (const p of queryPanels()) {
      check(p.title, p.datasource);
      for (const t of p.targets ?? []) check(`${p.title} ${t.refId}`, t.datasource ?? p.datasource);
    }
    for (const v of queryVariables()) check(`$${v.name}`, v.datasource);
    expect(wrong).toEqual([]);
  });

  it('has unique panel ids, refIds per panel, and a layout inside 24 columns without overlaps', () => {
    const all = panels();
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    for (const p of queryPanels()) {
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(refIds.length, `${p.title} has queries`).toBeGreaterThan(0);
      expect(new Set(refIds).size, `${p.title} refIds`).toBe(refIds.length);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
    const overlaps: string[] = [];
    all.forEach((a, i) =>
      all.slice(i + 1).forEach((b) => {
        const g = a.gridPos;
        const h = b.gridPos;
        if (g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h) overlaps.push(`${a.title} / ${b.title}`);
      }),
    );
    expect(overlaps).toEqual([]);
  });

  it('every query is PromQL the scanner understands, with known functions only', () => {
    const problems = queries().flatMap(({ panel, expr }) => (expr.trim() === '' ? ['empty expr'] : analyse(expr).problems).map((p) => `${panel}: ${p}`));
    const vars = queryVariables().filter((v) => !analyseVariable(variableQuery(v))).map((v) => `$${v.name}: not label_values(metric, label)`);
    expect([...problems, ...vars]).toEqual([]);
  });

  it('shows what operators look at: traffic, latency percentiles, tokens, cost, limits, fallbacks, dropped records', () => {
    const used = new Set(queries().flatMap(({ expr }) => [...analyse(expr).metrics.keys()].map((m) => m.replace(/_(bucket|count|sum)$/, ''))));
    expect([...used]).toEqual(
      expect.arrayContaining([
        'http_server_request_duration_seconds',
        'gen_ai_server_time_to_first_token_seconds',
        'gateway_overhead_seconds',
        'gen_ai_client_operation_duration_seconds',
        'gateway_subject_tokens_total',
        'gateway_subject_cost_usd_total',
        'gateway_rate_limited_total',
        'gateway_fallbacks_total',
        'gateway_usage_records_dropped_total',
      ]),
    );
    for (const histogram of ['http_server_request_duration_seconds', 'gen_ai_server_time_to_first_token_seconds', 'gateway_overhead_seconds']) {
      const exprs = queries().map((q) => q.expr).filter((e) => e.includes(`${histogram}_bucket`));
      for (const q of ['0.5', '0.95', '0.99']) expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q},`)), `${histogram} p${Number(q) * 100}`).toBe(true);
    }
    const grouped = (metric: string) => queries().filter((q) => analyse(q.expr).metrics.has(metric)).map((q) => [...analyse(q.expr).by].sort().join(','));
    expect(grouped('gateway_subject_tokens_total')).toEqual(expect.arrayContaining([expect.stringContaining('subject'), expect.stringContaining('gen_ai_request_model')]));
    expect(grouped('gateway_subject_cost_usd_total')).toEqual(expect.arrayContaining([expect.stringContaining('subject'), expect.stringContaining('model')]));
    expect(grouped('http_server_request_duration_seconds_count')).toContain('http_response_status_code,http_route');
  });

  it('names in legends only labels the query keeps (its `by` labels)', () => {
    const wrong = queries().flatMap(({ panel, target, expr }) => {
      const kept = analyse(expr).by;
      return [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!).filter((l) => !kept.has(l)).map((l) => `${panel}: {{${l}}}`);
    });
    expect(wrong).toEqual([]);
  });
});

describe('the dashboard against a real gateway /metrics', () => {
  /** Every (queried name, labels it needs) across panels and variables. */
  const uses = () => [
    ...queries().flatMap(({ panel, expr }) => {
      const a = analyse(expr);
      return [...a.metrics].map(([name, matcherLabels]) => ({ where: panel, name, labels: new Set([...matcherLabels, ...a.by]) }));
    }),
    ...queryVariables().flatMap((v) => {
      const a = analyseVariable(variableQuery(v));
      return a ? [{ where: `$${v.name}`, name: a.metric, labels: a.labels }] : [];
    }),
  ];

  it('every metric a panel or variable queries is exposed (a `# TYPE <name>` line)', () => {
    const missing = new Set<string>();
    for (const { name } of uses()) {
      const family = familyName(name, families);
      if (!exposition.includes(`\n# TYPE ${family} `) && !exposition.startsWith(`# TYPE ${family} `)) missing.add(family);
    }
    expect([...missing].sort(), 'metrics the dashboard queries that /metrics does not expose').toEqual([]);
  });

  it('`_bucket`, `_count` and `_sum` are queried on histograms only', () => {
    const wrong = uses()
      .filter(({ name }) => /_(bucket|count|sum)$/.test(name) && !families.has(name))
      .filter(({ name }) => families.has(familyName(name, families)) && families.get(familyName(name, families))!.type !== 'histogram')
      .map(({ where, name }) => `${where}: ${name}`);
    expect(wrong).toEqual([]);
  });

  it('every label a query groups by or filters on is on that metric’s series', () => {
    const wrong: string[] = [];
    for (const { where, name, labels } of uses()) {
      const family = families.get(familyName(name, families));
      if (!family || family.samples === 0) continue; // missing: the test above; no series: the test below
      for (const label of labels) {
        if (SCRAPE_LABELS.has(label)) continue;
        if (label === 'le' ? !name.endsWith('_bucket') : !family.labels.has(label)) wrong.push(`${where}: ${name} has no label ${label}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the exercised gateway has series for every queried metric (so the label check above covered them)', () => {
    // Series this sequence cannot produce without taking a store down: checked by name only.
    const needOutage = new Set(['gateway_rate_limit_store_errors_total', 'gateway_usage_records_dropped_total']);
    const empty = new Set<string>();
    for (const { name } of uses()) {
      const family = familyName(name, families);
      if (!needOutage.has(family) && (families.get(family)?.samples ?? 0) === 0) empty.add(family);
    }
    expect([...empty].sort()).toEqual([]);
  });
});
