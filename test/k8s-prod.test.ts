/**
 * Production-grade properties of both kustomize overlays (k8s/overlays/dev, k8s/overlays/prod), offline:
 * schema-valid, kube-score without a CRITICAL finding, no static replicas under an HPA, every pod behind
 * NetworkPolicies that allow exactly the traffic it needs, high non-root UIDs/GIDs, read-only roots,
 * resources, distinct liveness and readiness. Then what only the prod overlay has: Keycloak in production
 * mode on its own Postgres, one public issuer, Secrets for credentials, Ingresses with TLS.
 */
import { describe, expect, it } from 'vitest';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { loadConfig } from '../src/config.js';
import { KUBE_SCORE_IGNORED, kubeScore, manifests, read, resolvePort, schemaProblems, type Manifests } from './helpers/k8s.js';

const DEV = manifests('k8s/overlays/dev');
const PROD = manifests('k8s/overlays/prod');
const OVERLAYS = [
  ['dev', DEV],
  ['prod', PROD],
] as const;

const containersOf = (spec: { containers: IContainer[]; initContainers?: IContainer[] }) => [...(spec.initContainers ?? []), ...spec.containers];

// ---- a small NetworkPolicy evaluator (matchLabels and the ipBlocks these manifests use) -------------

type Endpoint = { namespace: string; labels: Record<string, string> } | { ip: string };
const selects = (matchLabels: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(matchLabels ?? {}).every(([k, v]) => labels[k] === v);

function peerMatches(peer: INetworkPolicyPeer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) {
    if ('ip' in other) return peer.ipBlock.cidr === (other.ip.includes(':') ? '::/0' : '0.0.0.0/0') && !peer.ipBlock.except?.length;
    return false; // pod IPs are not matched by ipBlock here (as Cilium does; the strictest reading)
  }
  if ('ip' in other) return false;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': other.namespace })
    : other.namespace === policyNamespace;
  return namespaceOk && (!peer.podSelector || selects(peer.podSelector.matchLabels, other.labels));
}
const portMatches = (ports: INetworkPolicyPort[] | undefined, port: number, protocol: string) =>
  !ports?.length || ports.some((p) => p.port === port && (p.protocol ?? 'TCP') === protocol);

function policies(m: Manifests): NetworkPolicy[] {
  return m.objects().filter((o) => o.kind === 'NetworkPolicy').map((o) => new NetworkPolicy(o as never));
}

/** Whether `pod` may send (Egress) to / receive (Ingress) from `other` on that port, by its namespace's policies. */
function side(m: Manifests, pod: Endpoint, type: 'Ingress' | 'Egress', other: Endpoint, port: number, protocol: string): boolean {
  if ('ip' in pod) return true; // outside the cluster
  const applying = policies(m).filter(
    (p) => p.metadata?.namespace === pod.namespace && (p.spec?.policyTypes ?? []).includes(type) && selects(p.spec?.podSelector.matchLabels, pod.labels),
  );
  if (applying.length === 0) return true; // pods of namespaces we do not manage (kube-system, ingress-nginx)
  return applying.some((p) =>
    (type === 'Ingress' ? (p.spec?.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports })) : (p.spec?.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }))).some(
      (rule) => (!rule.peers?.length || rule.peers.some((peer) => peerMatches(peer, p.metadata!.namespace!, other))) && portMatches(rule.ports, port, protocol),
    ),
  );
}
function allowed(m: Manifests, from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
  return side(m, from, 'Egress', to, port, protocol) && side(m, to, 'Ingress', from, port, protocol);
}

function pod(m: Manifests, namespace: string, name: string): Endpoint {
  const found = m.pods().filter((p) => p.namespace === namespace && p.labels['app.kubernetes.io/name'] === name);
  if (found.length !== 1) throw new Error(`${m.dir}: expected one pod template ${namespace}/${name}, found ${found.length}`);
  return { namespace, labels: found[0]!.labels };
}
const DNS: Endpoint = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
const INGRESS_CONTROLLER: Endpoint = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
const PROMETHEUS: Endpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
const STRANGER: Endpoint = { namespace: 'default', labels: { app: 'something-else' } };
const PROVIDER: Endpoint = { ip: '104.18.7.192' }; // an address on the Internet

// ---- both overlays -----------------------------------------------------------------------------------

describe.each(OVERLAYS)('k8s/overlays/%s', (_name, m) => {
  it('renders, and every object satisfies its Kubernetes API schema', () => {
    expect(m.objects().length).toBeGreaterThan(10);
    expect(schemaProblems(m.objects())).toEqual([]);
  });

  it('puts every namespaced object into a Namespace that is rendered too', () => {
    const namespaces = m.objects().filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    expect(namespaces.sort()).toEqual(['inference-gateway', 'keycloak']);
    const stray = m.objects().filter((o) => o.kind !== 'Namespace' && !namespaces.includes(o.metadata.namespace ?? ''));
    expect(stray.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
  });

  it('has kube-score find nothing CRITICAL (opinionated checks ignored, each with its reason)', () => {
    const findings = kubeScore(m.yaml());
    expect(findings.filter((f) => f.grade === 'OK').length, 'kube-score ran its checks').toBeGreaterThan(20);
    const critical = findings.filter((f) => f.grade === 'CRITICAL').map((f) => f.line);
    expect(critical, `kube-score findings:\n${findings.filter((f) => f.grade !== 'OK' && f.grade !== 'SKIPPED').map((f) => f.line).join('\n')}`).toEqual([]);
    expect(Object.keys(KUBE_SCORE_IGNORED).sort()).toEqual(['container-ephemeral-storage-request-and-limit', 'container-image-pull-policy']);
    for (const reason of Object.values(KUBE_SCORE_IGNORED)) expect(reason.length).toBeGreaterThan(20);
  });

  it('sets no static replica count on a workload an HPA scales', () => {
    const hpas = m.objects().filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => new HorizontalPodAutoscaler(o as never));
    expect(hpas.map((h) => h.spec?.scaleTargetRef.name)).toContain('inference-gateway');
    for (const hpa of hpas) {
      const target = m.find(hpa.spec!.scaleTargetRef.kind, hpa.metadata!.namespace!, hpa.spec!.scaleTargetRef.name) as { spec?: { replicas?: number } };
      expect(target.spec?.replicas, `${hpa.spec?.scaleTargetRef.name} is scaled by an HPA`).toBeUndefined();
    }
  });

  it('selects every pod with an Ingress and an Egress NetworkPolicy, behind a default-deny in each namespace', () => {
    for (const p of m.pods()) {
      for (const type of ['Ingress', 'Egress'] as const) {
        const own = policies(m).filter(
          (np) => np.metadata?.namespace === p.namespace && np.spec?.podSelector.matchLabels !== undefined && (np.spec?.policyTypes ?? []).includes(type) && selects(np.spec?.podSelector.matchLabels, p.labels),
        );
        expect(own.length, `${p.id}: a ${type} policy of its own`).toBeGreaterThan(0);
      }
    }
    for (const namespace of ['inference-gateway', 'keycloak']) {
      const deny = policies(m).find((np) => np.metadata?.namespace === namespace && np.metadata?.name === 'default-deny');
      expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    }
    // Only plain label matches: the evaluator below (and a reader) need not know matchExpressions.
    expect(JSON.stringify(policies(m))).not.toContain('matchExpressions');
  });

  it('lets the gateway reach DNS, Redis, its Postgres and the providers; Redis and Postgres only from the gateway, reaching nothing', () => {
    const gateway = pod(m, 'inference-gateway', 'inference-gateway');
    const redis = pod(m, 'inference-gateway', 'redis');
    const postgres = pod(m, 'inference-gateway', 'usage-postgres');
    const keycloak = pod(m, 'keycloak', 'keycloak');
    expect(allowed(m, gateway, DNS, 53, 'UDP')).toBe(true);
    expect(allowed(m, gateway, DNS, 53, 'TCP')).toBe(true);
    expect(allowed(m, gateway, redis, 6379)).toBe(true);
    expect(allowed(m, gateway, postgres, 5432)).toBe(true);
    expect(allowed(m, gateway, PROVIDER, 443)).toBe(true);
    expect(allowed(m, gateway, PROVIDER, 80), 'providers over HTTPS only').toBe(false);
    for (const other of [keycloak, STRANGER, INGRESS_CONTROLLER]) {
      expect(allowed(m, other, redis, 6379)).toBe(false);
      expect(allowed(m, other, postgres, 5432)).toBe(false);
    }
    expect(allowed(m, gateway, redis, 5432), 'the right port only').toBe(false);
    for (const quiet of [redis, postgres]) {
      expect(allowed(m, quiet, PROVIDER, 443)).toBe(false);
      expect(allowed(m, quiet, DNS, 53, 'UDP')).toBe(false);
    }
  });

  it('runs every container as a non-root UID and GID >= 10000, read-only root, no privilege escalation, no capabilities', () => {
    for (const p of m.pods()) {
      const pod = p.spec.securityContext;
      expect(pod?.fsGroup, `${p.id} fsGroup`).toBeGreaterThanOrEqual(10000);
      expect(pod?.seccompProfile?.type, `${p.id} seccomp`).toBe('RuntimeDefault');
      for (const c of containersOf(p.spec)) {
        const id = `${p.id} ${c.name}`;
        expect(c.securityContext?.runAsNonRoot ?? pod?.runAsNonRoot, id).toBe(true);
        expect(c.securityContext?.runAsUser ?? pod?.runAsUser, `${id} uid`).toBeGreaterThanOrEqual(10000);
        expect(c.securityContext?.runAsGroup ?? pod?.runAsGroup, `${id} gid`).toBeGreaterThanOrEqual(10000);
        expect(c.securityContext, id).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      }
    }
  });

  it('gives every container CPU and memory requests and limits', () => {
    for (const p of m.pods()) {
      for (const c of containersOf(p.spec)) {
        expect(c.resources?.requests, `${p.id} ${c.name}`).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        expect(c.resources?.limits, `${p.id} ${c.name}`).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
      }
    }
  });

  it('asks liveness and readiness different questions wherever a container has both', () => {
    for (const p of m.pods()) {
      for (const c of p.spec.containers) {
        expect(c.readinessProbe, `${p.id} readiness`).toBeDefined();
        expect(c.livenessProbe, `${p.id} liveness`).toBeDefined();
        expect(JSON.stringify(c.livenessProbe?.httpGet ?? c.livenessProbe?.exec ?? c.livenessProbe?.tcpSocket), p.id).not.toBe(
          JSON.stringify(c.readinessProbe?.httpGet ?? c.readinessProbe?.exec ?? c.readinessProbe?.tcpSocket),
        );
      }
    }
    const gateway = only(m.deployment('inference-gateway', 'inference-gateway').spec?.template.spec?.containers);
    expect([gateway.livenessProbe?.httpGet?.path, gateway.readinessProbe?.httpGet?.path]).toEqual(['/health/live', '/health/ready']);
  });

  it('keeps Keycloak writable only where it must: its build output, /opt/keycloak/data and /tmp, each an emptyDir', () => {
    const spec = m.deployment('keycloak', 'keycloak').spec!.template.spec!;
    const c = only(spec.containers);
    for (const path of ['/opt/keycloak/lib/quarkus', '/opt/keycloak/data', '/tmp']) {
      const mount = c.volumeMounts?.find((v) => v.mountPath === path);
      expect(spec.volumes?.find((v) => v.name === mount?.name)?.emptyDir, path).toBeDefined();
    }
    // The build output is the image's own, copied in before Keycloak starts.
    const copy = spec.initContainers?.[0];
    expect(copy?.command).toEqual(['cp', '-R', '/opt/keycloak/lib/quarkus/.', '/build/']);
    expect(copy?.image).toBe(c.image);
    expect(copy?.volumeMounts?.find((v) => v.mountPath === '/build')?.name).toBe(c.volumeMounts?.find((v) => v.mountPath === '/opt/keycloak/lib/quarkus')?.name);
  });
});

function only<T>(items: readonly T[] | undefined): T {
  expect(items).toHaveLength(1);
  return items![0]!;
}

// ---- dev: the walkthrough's traffic ------------------------------------------------------------------

describe('k8s/overlays/dev network', () => {
  it('lets the gateway fetch signing keys from the in-cluster Keycloak Service, and nothing else reach Keycloak', () => {
    const gateway = pod(DEV, 'inference-gateway', 'inference-gateway');
    const keycloak = pod(DEV, 'keycloak', 'keycloak');
    expect(allowed(DEV, gateway, keycloak, 8080)).toBe(true);
    expect(allowed(DEV, pod(DEV, 'inference-gateway', 'redis'), keycloak, 8080)).toBe(false);
    expect(allowed(DEV, STRANGER, keycloak, 8080)).toBe(false);
    expect(allowed(DEV, keycloak, PROVIDER, 443), 'dev Keycloak calls nothing outside').toBe(false);
  });
});

// ---- prod --------------------------------------------------------------------------------------------

describe('k8s/overlays/prod: Keycloak in production mode', () => {
  const NS = 'keycloak';
  const spec = () => PROD.deployment(NS, 'keycloak').spec!.template.spec!;
  const keycloak = () => only(spec().containers);
  const keycloakEnv = () => PROD.containerEnv(keycloak(), NS);
  const postgres = () => new StatefulSet(PROD.find('StatefulSet', NS, 'keycloak-postgres') as never);
  const postgresContainer = () => only(postgres().spec?.template.spec?.containers);
  const realm = () => (JSON.parse(read('keycloak/inference-gateway-realm.json')) as { realm: string }).realm;

  it('runs `start --optimized --import-realm` (never start-dev), after an init container built it for Postgres with the same settings', () => {
    expect(keycloak().args).toEqual(['start', '--optimized', '--import-realm']);
    expect(JSON.stringify(spec())).not.toContain('start-dev');
    const [copy, build] = spec().initContainers ?? [];
    expect([copy?.name, build?.name]).toEqual(['copy-build', 'build']);
    expect(build?.args).toEqual(['build']);
    expect(build?.image).toBe(keycloak().image);
    // One ConfigMap feeds both, so the build options Keycloak runs with are the ones it was built with.
    const configMap = (c: IContainer | undefined) => c?.envFrom?.find((e) => e.configMapRef)?.configMapRef?.name;
    expect(configMap(build)).toBeDefined();
    expect(configMap(build)).toBe(configMap(keycloak()));
    const buildEnv = PROD.containerEnv(build!, NS);
    expect([buildEnv.KC_DB, buildEnv.KC_HEALTH_ENABLED]).toEqual(['postgres', 'true']);
    // Built output mounted read-only where Keycloak runs; writable in the build step.
    const buildMount = (c: IContainer | undefined) => c?.volumeMounts?.find((v) => v.mountPath === '/opt/keycloak/lib/quarkus');
    expect(buildMount(keycloak())?.readOnly).toBe(true);
    expect(buildMount(build)?.name).toBe(buildMount(keycloak())?.name);
    expect(buildMount(build)?.readOnly).not.toBe(true);
  });

  it('keeps its data in its own Postgres (not the ledger\'s), with the URL, user and password from the keycloak-db Secret', () => {
    const env = keycloakEnv();
    expect(env.KC_DB).toBe('postgres');
    for (const name of ['KC_DB_URL', 'KC_DB_USERNAME', 'KC_DB_PASSWORD']) {
      expect(keycloak().env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name, name).toBe('keycloak-db');
    }
    const url = new URL(env.KC_DB_URL!.replace(/^jdbc:/, ''));
    const svc = PROD.find('Service', NS, 'keycloak-postgres') as unknown as { spec: { selector: Record<string, string>; clusterIP?: string; ports: { port: number }[] } };
    expect(url.hostname).toBe('keycloak-postgres.keycloak.svc');
    expect(Number(url.port)).toBe(svc.spec.ports[0]!.port);
    expect(postgres().spec?.template.metadata?.labels).toMatchObject(svc.spec.selector);
    expect(postgres().spec?.serviceName).toBe('keycloak-postgres');
    const pg = PROD.containerEnv(postgresContainer(), NS);
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
    expect([env.KC_DB_USERNAME, env.KC_DB_PASSWORD]).toEqual([pg.POSTGRES_USER, pg.POSTGRES_PASSWORD]);
    expect(only(postgres().spec?.volumeClaimTemplates).spec?.resources?.requests?.storage).toBe('5Gi');
    // Separate from the ledger's database: another StatefulSet, namespace and Secret.
    const ledger = new URL(PROD.containerEnv(only(PROD.deployment('inference-gateway', 'inference-gateway').spec?.template.spec?.containers), 'inference-gateway').USAGE_DATABASE_URL!);
    expect(ledger.hostname).not.toBe(url.hostname);
    expect(read('k8s/overlays/prod/keycloak/postgres.yaml')).toMatch(/separate from the usage ledger's/);
  });

  it('has a fixed public HTTPS hostname behind a TLS-terminating proxy, health on the management port', () => {
    const env = keycloakEnv();
    expect(new URL(env.KC_HOSTNAME!).protocol).toBe('https:');
    expect(env.KC_PROXY_HEADERS).toBe('xforwarded');
    expect(env.KC_HTTP_ENABLED).toBe('true');
    expect(env.KC_HEALTH_ENABLED).toBe('true');
    const c = keycloak();
    expect([c.readinessProbe?.httpGet?.path, c.livenessProbe?.httpGet?.path]).toEqual(['/health/ready', '/health/live']);
    expect(resolvePort(c, c.readinessProbe?.httpGet?.port)).toBe(9000);
    expect(resolvePort(c, c.livenessProbe?.httpGet?.port)).toBe(9000);
  });

  it('takes the admin credentials and the realm secrets from Secrets, never literal values', () => {
    for (const name of ['KC_BOOTSTRAP_ADMIN_USERNAME', 'KC_BOOTSTRAP_ADMIN_PASSWORD']) {
      const e = keycloak().env?.find((x) => x.name === name);
      expect(e?.value, name).toBeUndefined();
      expect(e?.valueFrom?.secretKeyRef?.name, name).toBe('keycloak-admin');
    }
    expect(keycloakEnv().KC_BOOTSTRAP_ADMIN_PASSWORD).toBeTruthy();
    // Every ${PLACEHOLDER:default} of the realm JSON gets a value from the keycloak-realm Secret.
    const placeholders = [...read('keycloak/inference-gateway-realm.json').matchAll(/\$\{(\w+):/g)].map((x) => x[1]!);
    expect(placeholders.length).toBeGreaterThan(0);
    expect(keycloak().envFrom?.map((e) => e.secretRef?.name)).toContain('keycloak-realm');
    for (const name of placeholders) expect(PROD.secretData(NS, 'keycloak-realm'), name).toHaveProperty(name);
  });

  it('ships only marked placeholders for passwords and secrets (real ones are created out of band)', () => {
    const secrets = PROD.objects().filter((o) => o.kind === 'Secret');
    const checked: string[] = [];
    for (const s of secrets) {
      for (const [key, value] of Object.entries(PROD.secretData(s.metadata.namespace!, s.metadata.name))) {
        if (!/PASSWORD|SECRET|DATABASE_URL/.test(key) || value === '') continue;
        checked.push(key);
        expect(value, `${s.metadata.name}.${key}`).toMatch(/replace-me-/);
      }
    }
    expect(checked).toEqual(expect.arrayContaining(['KC_BOOTSTRAP_ADMIN_PASSWORD', 'KC_DB_PASSWORD', 'POSTGRES_PASSWORD', 'USAGE_DATABASE_URL', 'KC_GATEWAY_CLIENT_SECRET']));
  });

  it('imports the realm ConfigMap at start-up', () => {
    const mount = keycloak().volumeMounts?.find((v) => v.mountPath === '/opt/keycloak/data/import');
    const volume = spec().volumes?.find((v) => v.name === mount?.name);
    expect(volume?.configMap?.name).toBe(PROD.find('ConfigMap', NS, 'keycloak-realm').metadata.name);
    expect(volume?.configMap?.items).toEqual([{ key: 'inference-gateway-realm.json', path: `${realm()}-realm.json` }]);
  });

  it('runs two replicas with a PodDisruptionBudget, clustered on the JGroups ports the NetworkPolicy opens between them', () => {
    expect(PROD.deployment(NS, 'keycloak').spec?.replicas).toBe(2);
    const pdb = new PodDisruptionBudget(PROD.find('PodDisruptionBudget', NS, 'keycloak') as never);
    expect(pdb.spec?.minAvailable).toBe(1);
    expect(PROD.deployment(NS, 'keycloak').spec?.template.metadata?.labels).toMatchObject(pdb.spec?.selector?.matchLabels ?? { missing: '' });
    const kc = pod(PROD, NS, 'keycloak');
    for (const port of [7800, 57800]) expect(allowed(PROD, kc, kc, port), String(port)).toBe(true);
  });

  it('is reached by the ingress controller and the gateway; its Postgres only by Keycloak', () => {
    const kc = pod(PROD, NS, 'keycloak');
    const kcdb = pod(PROD, NS, 'keycloak-postgres');
    const gateway = pod(PROD, 'inference-gateway', 'inference-gateway');
    expect(allowed(PROD, INGRESS_CONTROLLER, kc, 8080)).toBe(true);
    expect(allowed(PROD, STRANGER, kc, 8080)).toBe(false);
    expect(allowed(PROD, INGRESS_CONTROLLER, kc, 9000), 'management port stays inside').toBe(false);
    expect(allowed(PROD, kc, kcdb, 5432)).toBe(true);
    expect(allowed(PROD, kc, DNS, 53, 'UDP')).toBe(true);
    for (const other of [gateway, pod(PROD, 'inference-gateway', 'usage-postgres'), INGRESS_CONTROLLER, STRANGER]) {
      expect(allowed(PROD, other, kcdb, 5432)).toBe(false);
    }
    expect(allowed(PROD, kcdb, PROVIDER, 443)).toBe(false);
    expect(allowed(PROD, kc, pod(PROD, 'inference-gateway', 'usage-postgres'), 5432), "not the ledger's database").toBe(false);
  });

  it('publishes KC_HOSTNAME through an Ingress with TLS: realms and resources only, to the keycloak Service', () => {
    const host = new URL(keycloakEnv().KC_HOSTNAME!).hostname;
    const ingress = new Ingress(PROD.find('Ingress', NS, 'keycloak') as never);
    expect(ingress.spec?.tls?.flatMap((t) => t.hosts)).toEqual([host]);
    expect(ingress.spec?.tls?.[0]?.secretName).toBeTruthy();
    const rule = only(ingress.spec?.rules);
    expect(rule.host).toBe(host);
    expect(rule.http?.paths.map((p) => p.path)).toEqual(['/realms/', '/resources/']);
    const svc = PROD.find('Service', NS, 'keycloak') as unknown as { spec: { ports: { port: number; targetPort: string }[] } };
    for (const p of rule.http!.paths) {
      expect(p.backend.service?.name).toBe('keycloak');
      expect(p.backend.service?.port?.number).toBe(svc.spec.ports[0]!.port);
    }
    expect(resolvePort(keycloak(), svc.spec.ports[0]!.targetPort)).toBe(8080);
  });
});

describe('k8s/overlays/prod: the gateway', () => {
  const NS = 'inference-gateway';
  const container = () => only(PROD.deployment(NS, 'inference-gateway').spec?.template.spec?.containers);
  const config = () => loadConfig(PROD.containerEnv(container(), NS));
  const kcHostname = () => PROD.containerEnv(only(PROD.deployment('keycloak', 'keycloak').spec?.template.spec?.containers), 'keycloak').KC_HOSTNAME!;
  const realm = () => (JSON.parse(read('keycloak/inference-gateway-realm.json')) as { realm: string }).realm;

  it('parses with the gateway config parser, auth on', () => {
    expect(config().auth.enabled).toBe(true);
  });

  it('trusts exactly one issuer: the one Keycloak stamps on tokens (KC_HOSTNAME + realm)', () => {
    const { auth } = config();
    expect(auth.issuerUrl).toBe(`${kcHostname()}/realms/${realm()}`);
    expect(auth.acceptedIssuers).toEqual([auth.issuerUrl]);
  });

  it('reaches that issuer through the ingress controller (or its public address) over HTTPS', () => {
    const gateway = pod(PROD, NS, 'inference-gateway');
    expect(new URL(config().auth.issuerUrl).protocol).toBe('https:');
    expect(allowed(PROD, gateway, INGRESS_CONTROLLER, 443)).toBe(true);
    expect(allowed(PROD, gateway, PROVIDER, 443)).toBe(true);
  });

  it('is reached by the ingress controller and Prometheus only', () => {
    const gateway = pod(PROD, NS, 'inference-gateway');
    expect(allowed(PROD, INGRESS_CONTROLLER, gateway, 8080)).toBe(true);
    expect(allowed(PROD, PROMETHEUS, gateway, 8080)).toBe(true);
    expect(allowed(PROD, STRANGER, gateway, 8080)).toBe(false);
  });

  it('runs a registry image, not the locally built one', () => {
    expect(container().image).not.toMatch(/:local$/);
    expect(container().image).toMatch(/^[\w.-]+(:\d+)?\/[\w./-]+:[\w.-]+$/);
  });

  it('exposes the API routes through an Ingress with TLS, not /metrics nor the probes, with streaming-friendly timeouts', () => {
    const ingress = new Ingress(PROD.find('Ingress', NS, 'inference-gateway') as never);
    const rule = only(ingress.spec?.rules);
    expect(ingress.spec?.tls?.flatMap((t) => t.hosts)).toEqual([rule.host]);
    expect(rule.http?.paths.map((p) => p.path)).toEqual(['/v1/', '/graphql', '/proxy/']);
    for (const p of rule.http!.paths) {
      expect(p.backend.service?.name).toBe('inference-gateway');
      expect(p.backend.service?.port?.number).toBe(config().server.port);
    }
    const annotations = ingress.metadata?.annotations ?? {};
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(600);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-body-size']).toBe(`${config().server.maxRequestBodySize / 1048576}m`);
  });

  it('names a cert-manager issuer in both Ingresses (as a comment: optional)', () => {
    expect(read('k8s/overlays/prod/inference-gateway/ingress.yaml')).toMatch(/# cert-manager\.io\/cluster-issuer: /);
    expect(read('k8s/overlays/prod/keycloak/ingress.yaml')).toMatch(/# cert-manager\.io\/cluster-issuer: /);
  });
});
