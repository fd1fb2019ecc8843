/**
 * Offline checks of the kustomize tree: render an overlay with `kubectl kustomize` (standalone
 * `kustomize build` if kubectl is absent), look objects up, resolve a container's environment as the
 * kubelet would, validate against the Kubernetes API schemas (kubernetes-models), and run kube-score.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Runs a program in the repository; undefined when it is not installed. */
function run(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** The YAML `kubectl kustomize <dir>` prints. */
export function kustomize(dir: string): string {
  const out = run('kubectl', ['kustomize', dir]) ?? run('kustomize', ['build', dir]);
  if (out === undefined) {
    throw new Error(
      'kubectl is not installed (not on PATH), so the Kubernetes manifests cannot be rendered. ' +
        'Install kubectl >= 1.27 (it bundles kustomize v5), or the standalone kustomize v5 ' +
        '(`go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0`), then re-run.',
    );
  }
  return out;
}

// The kinds we emit, each with the model that carries its API schema.
export const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
};

/** Every object that does not satisfy its Kubernetes API schema, with the reason. */
export function schemaProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const id = `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    if (!Model) {
      problems.push(`${id}: no schema for ${o.apiVersion} ${o.kind} (add it to MODELS)`);
      continue;
    }
    try {
      new Model(o as never).validate();
    } catch (error) {
      problems.push(`${id}: ${(error as Error).message}`);
    }
  }
  return problems;
}

export interface Manifests {
  readonly dir: string;
  /** The rendered YAML, as kubectl prints it. */
  yaml(): string;
  objects(): K8sObject[];
  /** The one rendered object of that kind/namespace whose name is `name` or `name-<kustomize hash>`. */
  find(kind: string, namespace: string, name: string): K8sObject;
  deployment(namespace: string, name: string): Deployment;
  /** A rendered Secret's values (stringData over base64 data, as the API server merges them). */
  secretData(namespace: string, name: string): Record<string, string>;
  /** A container's `env` as the kubelet resolves it (`value`, or a key of a rendered Secret/ConfigMap), `envFrom` first. */
  containerEnv(container: IContainer, namespace: string): Record<string, string>;
  /** Every pod template (Deployments, StatefulSets) with its namespace and labels. */
  pods(): { id: string; namespace: string; labels: Record<string, string>; spec: IPodSpec }[];
}

/** Renders `dir` once (lazily; a failure is thrown by every later call too). */
export function manifests(dir: string): Manifests {
  let rendered: { yaml: string; objects: K8sObject[] } | Error | undefined;
  const load = () => {
    if (rendered === undefined) {
      try {
        const yaml = kustomize(dir);
        const objects = parseAllDocuments(yaml).map((doc) => {
          if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
          return doc.toJS() as K8sObject;
        });
        rendered = { yaml, objects };
      } catch (error) {
        rendered = error as Error;
      }
    }
    if (rendered instanceof Error) throw rendered;
    return rendered;
  };
  const objects = () => load().objects;
  const find = (kind: string, namespace: string, name: string) => {
    const hits = objects().filter(
      (o) =>
        o.kind === kind &&
        o.metadata.namespace === namespace &&
        (o.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name)),
    );
    if (hits.length !== 1) throw new Error(`${dir}: expected one ${kind} ${namespace}/${name}, rendered ${hits.length}`);
    return hits[0]!;
  };
  const secretData = (namespace: string, name: string) => {
    const secret = find('Secret', namespace, name) as { data?: Record<string, string>; stringData?: Record<string, string> };
    const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    return { ...data, ...secret.stringData };
  };
  const configMapData = (namespace: string, name: string) => (find('ConfigMap', namespace, name) as { data?: Record<string, string> }).data ?? {};
  return {
    dir,
    yaml: () => load().yaml,
    objects,
    find,
    deployment: (namespace, name) => new Deployment(find('Deployment', namespace, name) as never),
    secretData,
    containerEnv(container, namespace) {
      const out: Record<string, string> = {};
      for (const from of container.envFrom ?? []) {
        if (from.configMapRef) Object.assign(out, configMapData(namespace, from.configMapRef.name!));
        if (from.secretRef) Object.assign(out, secretData(namespace, from.secretRef.name!));
      }
      for (const e of container.env ?? []) {
        const secretRef = e.valueFrom?.secretKeyRef;
        const configMapRef = e.valueFrom?.configMapKeyRef;
        let value: string | undefined = e.value;
        if (secretRef) value = secretData(namespace, secretRef.name!)[secretRef.key];
        else if (configMapRef) value = configMapData(namespace, configMapRef.name!)[configMapRef.key];
        if (value === undefined) throw new Error(`env ${e.name} of container ${container.name} resolves to nothing`);
        out[e.name] = value;
      }
      return out;
    },
    pods: () =>
      objects()
        .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
        .map((o) => {
          const template = (o as unknown as { spec: { template: { metadata?: { labels?: Record<string, string> }; spec: IPodSpec } } }).spec.template;
          return { id: `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`, namespace: o.metadata.namespace ?? '', labels: template.metadata?.labels ?? {}, spec: template.spec };
        }),
  };
}

/** A probe's or Service's port (number or container port name) as a container port number. */
export function resolvePort(container: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

// ---- kube-score ----------------------------------------------------------------------------------

/**
 * kube-score's opinionated checks we switch off, each with the reason. Everything else runs with its
 * defaults, and a CRITICAL finding fails the suite.
 */
export const KUBE_SCORE_IGNORED: Record<string, string> = {
  // `imagePullPolicy: Always` re-validates pull secrets on every start, but it also makes every pod
  // start depend on the registry, and the dev overlay runs an image imported into k3d that no
  // registry has. We pin tags (never `latest`) and pull IfNotPresent.
  'container-image-pull-policy': 'pinned tags + IfNotPresent; a locally imported dev image has no registry',
  // Every writable path is an emptyDir with a `sizeLimit`, which is what bounds ephemeral storage
  // here; a per-container ephemeral-storage request/limit on top adds eviction churn, no safety.
  'container-ephemeral-storage-request-and-limit': 'writable paths are size-limited emptyDirs on a read-only root',
};

/** The kube-score binary: $KUBE_SCORE, on PATH, or where scripts/install-system-deps.sh puts it. */
export function kubeScoreBinary(): string {
  if (process.env.KUBE_SCORE) return process.env.KUBE_SCORE;
  const cached = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'graphql-inference-gateway', 'bin', 'kube-score');
  if (existsSync(cached)) return cached;
  const onPath = spawnSync('sh', ['-c', 'command -v kube-score'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  throw new Error("kube-score is not installed: run 'bash scripts/install-system-deps.sh kube-score' (needs Go)");
}

export interface KubeScoreFinding {
  grade: 'CRITICAL' | 'WARNING' | 'OK' | 'SKIPPED';
  line: string;
}

/** kube-score's findings for rendered YAML (`-o ci`: one line per check and object). */
export function kubeScore(yaml: string): KubeScoreFinding[] {
  const args = ['score', '-o', 'ci', '--kubernetes-version', 'v1.30'];
  for (const check of Object.keys(KUBE_SCORE_IGNORED)) args.push('--ignore-test', check);
  args.push('-');
  const r = spawnSync(kubeScoreBinary(), args, { input: yaml, encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.error) throw r.error;
  // Exit 1 means "a critical finding" (parsed below); anything else without output is a failure to run.
  if (r.stdout.trim() === '') throw new Error(`kube-score produced no output (exit ${r.status}):\n${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => ({ grade: (/^\[(\w+)\]/.exec(line)?.[1] ?? 'CRITICAL') as KubeScoreFinding['grade'], line }));
}
