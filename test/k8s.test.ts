/**
 * The Kubernetes dev overlay, checked offline: `kubectl kustomize k8s/overlays/dev` must render, every object must
 * satisfy the Kubernetes API schema, and the manifests must agree with the gateway's own config parser,
 * the realm JSON, the Dockerfile and the Taskfile. No cluster, no network.
 */
import { GATEWAY_NODE_FLAGS } from '../bench/node-flags.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { loadConfig, type Config } from '../src/config.js';
import { manifests, read, resolvePort, schemaProblems, type K8sObject } from './helpers/k8s.js';

/** The dev overlay: the walkthrough's manifests (the prod overlay has its own file, k8s-prod.test.ts). */
const DEV = manifests('k8s/overlays/dev');
const { objects, find, secretData, containerEnv } = DEV;

const deployment = (ns: string, name: string) => new Deployment(find('Deployment', ns, name) as never);
const gatewayDeployment = () => deployment('inference-gateway', 'inference-gateway');
const keycloakDeployment = () => deployment('keycloak', 'keycloak');

function only<T>(items: readonly T[] | undefined, what: string): T {
  expect(items, what).toHaveLength(1);
  return items![0]!;
}
const gatewayContainer = () => only(gatewayDeployment().spec?.template.spec?.containers, 'gateway containers');
const keycloakContainer = () => only(keycloakDeployment().spec?.template.spec?.containers, 'keycloak containers');

function env(container: IContainer, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/** What the gateway process sees from its manifests: the ConfigMap plus the Secret (envFrom), then its own `env` (which wins). */
function manifestEnv(): Record<string, string> {
  return containerEnv(gatewayContainer(), 'inference-gateway');
}
const gatewayConfig = (): Config => loadConfig(manifestEnv());

const realmJson = () => read('keycloak/inference-gateway-realm.json');
const realmName = () => (JSON.parse(realmJson()) as { realm: string }).realm;

describe('k8s/overlays/dev renders and is schema-valid', () => {
  it('renders the gateway and Keycloak with `kubectl kustomize k8s/overlays/dev`', () => {
    const ids = objects().map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`);
    expect(ids).toEqual(
      expect.arrayContaining([
        'Namespace /inference-gateway',
        'ServiceAccount inference-gateway/inference-gateway',
        'ConfigMap inference-gateway/inference-gateway',
        'Secret inference-gateway/inference-gateway',
        'Deployment inference-gateway/inference-gateway',
        'Service inference-gateway/inference-gateway',
        'HorizontalPodAutoscaler inference-gateway/inference-gateway',
        'PodDisruptionBudget inference-gateway/inference-gateway',
        'Deployment inference-gateway/redis',
        'Service inference-gateway/redis',
        'NetworkPolicy inference-gateway/default-deny',
        'NetworkPolicy inference-gateway/inference-gateway',
        'NetworkPolicy inference-gateway/redis',
        'StatefulSet inference-gateway/usage-postgres',
        'Service inference-gateway/usage-postgres',
        'Secret inference-gateway/usage-postgres',
        'NetworkPolicy inference-gateway/usage-postgres',
        'ConfigMap inference-gateway/inference-gateway-dashboard',
        'Namespace /keycloak',
        'ConfigMap keycloak/keycloak-realm',
        'Deployment keycloak/keycloak',
        'Service keycloak/keycloak',
        'NetworkPolicy keycloak/default-deny',
        'NetworkPolicy keycloak/keycloak',
      ]),
    );
  });

  it('every rendered object satisfies its Kubernetes API schema', () => {
    expect(schemaProblems(objects())).toEqual([]);
  });

  it('puts every namespaced object into a Namespace that is rendered too', () => {
    const namespaces = objects().filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    const stray = objects().filter((o) => o.kind !== 'Namespace' && !namespaces.includes(o.metadata.namespace ?? ''));
    expect(stray.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
  });
});

describe('the gateway manifests agree with the gateway config parser', () => {
  it('ConfigMap + Secret parse without configuration errors', () => {
    expect(() => gatewayConfig()).not.toThrow();
  });

  it('no key is set in both the ConfigMap and the Secret (which one wins would be an accident)', () => {
    const cm = find('ConfigMap', 'inference-gateway', 'inference-gateway') as { data?: Record<string, string> };
    const secret = find('Secret', 'inference-gateway', 'inference-gateway') as { stringData?: Record<string, string> };
    expect(Object.keys(cm.data ?? {}).filter((k) => k in (secret.stringData ?? {}))).toEqual([]);
    // Nor in one of them and the container's own env (which would silently win).
    const own = (gatewayContainer().env ?? []).map((e) => e.name);
    expect(own.filter((k) => k in (cm.data ?? {}) || k in (secret.stringData ?? {}))).toEqual([]);
  });

  it('turns auth on for the Keycloak client `inference-gateway-client`', () => {
    const { auth } = gatewayConfig();
    expect(auth.enabled).toBe(true);
    expect(auth.clientId).toBe('inference-gateway-client');
    expect(auth.audience).toBe('inference-gateway-client');
  });

  it('trusts exactly the issuer Keycloak stamps on tokens: KC_HOSTNAME + the realm name', () => {
    const kcHostname = env(keycloakContainer(), 'KC_HOSTNAME');
    expect(kcHostname).toBeDefined();
    expect(gatewayConfig().auth.issuerUrl).toBe(`${kcHostname}/realms/${realmName()}`);
  });

  it('reaches the issuer through the in-cluster Keycloak Service', () => {
    const issuer = new URL(gatewayConfig().auth.issuerUrl);
    const svc = new Service(find('Service', 'keycloak', 'keycloak') as never);
    expect(issuer.hostname).toBe(`${svc.metadata?.name}.${svc.metadata?.namespace}`);
    expect(Number(issuer.port || 80)).toBe(only(svc.spec?.ports, 'keycloak service ports').port);
  });

  it('the extra accepted issuer and the admin console URL use the port `task proxy-keycloak` forwards', () => {
    const port = String(taskfile().vars.KEYCLOAK_PORT);
    expect(gatewayConfig().auth.acceptedIssuers).toContain(`http://localhost:${port}/realms/${realmName()}`);
    expect(env(keycloakContainer(), 'KC_HOSTNAME_ADMIN')).toBe(`http://localhost:${port}`);
  });

  it('listens on all interfaces', () => {
    expect(gatewayConfig().server.host).toBe('0.0.0.0');
  });

  it('configures no provider: every API key slot ships empty', () => {
    const config = gatewayConfig();
    const secret = find('Secret', 'inference-gateway', 'inference-gateway') as { stringData?: Record<string, string> };
    for (const p of config.providers) expect(secret.stringData, p.spec.id).toHaveProperty(`${p.spec.envPrefix}_API_KEY`, '');
    expect(config.providers.filter((p) => p.configured).map((p) => p.spec.id)).toEqual([]);
  });

  it('takes its environment from that ConfigMap and Secret', () => {
    const envFrom = gatewayContainer().envFrom ?? [];
    expect(envFrom.map((e) => e.configMapRef?.name ?? e.secretRef?.name)).toEqual(['inference-gateway', 'inference-gateway']);
    expect(envFrom.map((e) => (e.configMapRef ? 'ConfigMap' : 'Secret'))).toEqual(['ConfigMap', 'Secret']);
  });

  it('exposes SERVER_PORT as the container port named http', () => {
    const port = only(gatewayContainer().ports, 'gateway container ports');
    expect(port.containerPort).toBe(gatewayConfig().server.port);
    expect(port.name).toBe('http');
  });

  it.each([
    ['startupProbe', '/health/live'],
    ['readinessProbe', '/health/ready'],
    ['livenessProbe', '/health/live'],
  ] as const)('%s GETs %s on the server port', (probe, path) => {
    const c = gatewayContainer();
    expect(c[probe]?.httpGet?.path).toBe(path);
    expect(resolvePort(c, c[probe]?.httpGet?.port)).toBe(gatewayConfig().server.port);
  });

  it('liveness and readiness ask different questions (a slow dependency takes a pod out of rotation, never restarts it)', () => {
    const c = gatewayContainer();
    expect(c.livenessProbe?.httpGet?.path).not.toBe(c.readinessProbe?.httpGet?.path);
  });

  it('the Service routes to the server port of the gateway pods', () => {
    const svc = new Service(find('Service', 'inference-gateway', 'inference-gateway') as never);
    const port = only(svc.spec?.ports, 'gateway service ports');
    expect(resolvePort(gatewayContainer(), port.targetPort)).toBe(gatewayConfig().server.port);
    expect(gatewayDeployment().spec?.template.metadata?.labels).toMatchObject(svc.spec?.selector ?? { selector: 'missing' });
  });

  it('the HPA scales the gateway Deployment on 70% CPU between 2 and 10 replicas', () => {
    const hpa = new HorizontalPodAutoscaler(find('HorizontalPodAutoscaler', 'inference-gateway', 'inference-gateway') as never);
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: gatewayDeployment().metadata?.name });
    expect([hpa.spec?.minReplicas, hpa.spec?.maxReplicas]).toEqual([2, 10]);
    const cpu = only(hpa.spec?.metrics, 'hpa metrics').resource;
    expect([cpu?.name, cpu?.target.type, cpu?.target.averageUtilization]).toEqual(['cpu', 'Utilization', 70]);
    expect(gatewayContainer().resources?.requests?.cpu, 'utilization needs a CPU request').toBeDefined();
    // The HPA owns the replica count: a static one would reset its scale on every `kubectl apply`.
    expect(gatewayDeployment().spec?.replicas).toBeUndefined();
  });

  it('the PodDisruptionBudget keeps one gateway pod while allowing drains', () => {
    const pdb = new PodDisruptionBudget(find('PodDisruptionBudget', 'inference-gateway', 'inference-gateway') as never);
    expect(pdb.spec?.minAvailable).toBe(1);
    expect(gatewayDeployment().spec?.template.metadata?.labels).toMatchObject(pdb.spec?.selector?.matchLabels ?? { selector: 'missing' });
  });

  it('runs hardened: non-root 10001, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const pod = gatewayDeployment().spec?.template.spec;
    const c = gatewayContainer();
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.securityContext?.runAsUser ?? pod?.securityContext?.runAsUser).toBe(10001);
  });

  it('gives the read-only container a writable emptyDir at /tmp', () => {
    const mount = gatewayContainer().volumeMounts?.find((m) => m.mountPath === '/tmp');
    const volume = gatewayDeployment().spec?.template.spec?.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.emptyDir).toBeDefined();
  });

  it('mounts no Kubernetes API token', () => {
    const sa = new ServiceAccount(find('ServiceAccount', 'inference-gateway', 'inference-gateway') as never);
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(gatewayDeployment().spec?.template.spec?.serviceAccountName).toBe(sa.metadata?.name);
    expect(gatewayDeployment().spec?.template.spec?.automountServiceAccountToken).toBe(false);
  });

  it('drains: a preStop pause, then a grace period long enough for in-flight streams', () => {
    const preStop = gatewayContainer().lifecycle?.preStop;
    expect(preStop?.sleep ?? preStop?.exec, 'a preStop pause (sleep or exec)').toBeDefined();
    const pause = preStop?.sleep?.seconds ?? 0;
    expect(gatewayDeployment().spec?.template.spec?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(pause + 30);
  });

  it("lets the gateway's own drain (SERVER_SHUTDOWN_TIMEOUT) finish before Kubernetes kills the pod", () => {
    const pause = gatewayContainer().lifecycle?.preStop?.sleep?.seconds ?? 0;
    const drainSeconds = gatewayConfig().server.shutdownTimeoutMs / 1000;
    expect(pause + drainSeconds).toBeLessThan(gatewayDeployment().spec!.template.spec!.terminationGracePeriodSeconds!);
  });
});

describe('operations: shared limits in Redis, metrics', () => {
  const redisDeployment = () => deployment('inference-gateway', 'redis');
  const redisContainer = () => only(redisDeployment().spec?.template.spec?.containers, 'redis containers');

  it('points every replica at the in-cluster Redis Service, with a requests budget per client', () => {
    const { limits } = gatewayConfig();
    const svc = new Service(find('Service', 'inference-gateway', 'redis') as never);
    const url = new URL(limits.redisUrl!);
    expect(url.hostname).toBe(svc.metadata?.name);
    expect(Number(url.port)).toBe(only(svc.spec?.ports, 'redis service ports').port);
    expect(resolvePort(redisContainer(), only(svc.spec?.ports, 'redis service ports').targetPort)).toBe(6379);
    expect(redisDeployment().spec?.template.metadata?.labels).toMatchObject(svc.spec?.selector ?? { selector: 'missing' });
    expect(limits.requestsPerMinute).toBeGreaterThan(0);
    expect(limits.failureMode).toBe('open');
  });

  it('runs Redis without persistence, bounded in memory, hardened, reachable only from gateway pods', () => {
    const c = redisContainer();
    expect(c.args).toEqual(expect.arrayContaining(['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'volatile-ttl']));
    expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(c.readinessProbe).toBeDefined();
    const policy = new NetworkPolicy(find('NetworkPolicy', 'inference-gateway', 'redis') as never);
    expect(policy.spec?.podSelector.matchLabels).toEqual(redisDeployment().spec?.selector.matchLabels);
    const from = only(only(policy.spec?.ingress, 'ingress rules').from, 'ingress peers');
    expect(gatewayDeployment().spec?.template.metadata?.labels).toMatchObject(from.podSelector?.matchLabels ?? { selector: 'missing' });
  });

  it('annotates gateway pods for Prometheus scraping of /metrics on the server port, and keeps metrics on', () => {
    const annotations = gatewayDeployment().spec?.template.metadata?.annotations ?? {};
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    expect(Number(annotations['prometheus.io/port'])).toBe(gatewayConfig().server.port);
    expect(gatewayConfig().metricsEnabled).toBe(true);
  });
});

describe('usage ledger: Postgres for every replica', () => {
  const NS = 'inference-gateway';
  const postgres = () => new StatefulSet(find('StatefulSet', NS, 'usage-postgres') as never);
  const postgresPod = () => postgres().spec?.template.spec;
  const postgresContainer = () => only(postgresPod()?.containers, 'postgres containers');
  const postgresService = () => new Service(find('Service', NS, 'usage-postgres') as never);
  const ledgerUrlText = () => containerEnv(gatewayContainer(), NS).USAGE_DATABASE_URL ?? 'missing://';
  const ledgerUrl = () => new URL(ledgerUrlText());
  /** Labels of every pod template rendered into the namespace, by workload. */
  const podTemplates = () =>
    objects()
      .filter((o) => (o.kind === 'Deployment' || o.kind === 'StatefulSet') && o.metadata.namespace === NS)
      .map((o) => ({ id: `${o.kind} ${o.metadata.name}`, labels: (o as { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } }).spec?.template?.metadata?.labels ?? {} }));
  const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
    selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);

  it('gives the gateway USAGE_DATABASE_URL from the usage-postgres Secret (which Postgres takes its password from)', () => {
    const ref = gatewayContainer().env?.find((e) => e.name === 'USAGE_DATABASE_URL')?.valueFrom?.secretKeyRef;
    expect(ref).toMatchObject({ name: 'usage-postgres', key: 'USAGE_DATABASE_URL' });
    expect(ref?.optional, 'a gateway without its ledger must not start silently').not.toBe(true);
    const pgRef = postgresContainer().env?.find((e) => e.name === 'POSTGRES_PASSWORD')?.valueFrom?.secretKeyRef;
    expect(pgRef).toMatchObject({ name: 'usage-postgres', key: 'POSTGRES_PASSWORD' });
  });

  it("the URL resolves to the usage-postgres Service's DNS name and port, which reach the Postgres pods on 5432", () => {
    const url = ledgerUrl();
    const svc = postgresService();
    expect(url.protocol).toMatch(/^postgres(ql)?:$/);
    expect([`${svc.metadata?.name}.${svc.metadata?.namespace}.svc`, `${svc.metadata?.name}.${svc.metadata?.namespace}.svc.cluster.local`]).toContain(url.hostname);
    const port = only(svc.spec?.ports, 'postgres service ports');
    expect(Number(url.port || 5432)).toBe(port.port);
    expect(resolvePort(postgresContainer(), port.targetPort)).toBe(5432);
    expect(postgres().spec?.template.metadata?.labels).toMatchObject(svc.spec?.selector ?? { selector: 'missing' });
    expect(postgres().spec?.serviceName).toBe(svc.metadata?.name);
  });

  it('the URL carries the user, password and database Postgres initialises', () => {
    const url = ledgerUrl();
    const pg = containerEnv(postgresContainer(), NS);
    expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
    expect(pg.POSTGRES_PASSWORD, 'the shipped password is a marked dev placeholder').toMatch(/^dev-only-/);
  });

  it('the config parser takes that URL as the ledger: one shared Postgres, since the gateway runs several replicas', () => {
    const config = gatewayConfig();
    expect(config.usage.databaseUrl).toBe(ledgerUrlText());
    const hpa = new HorizontalPodAutoscaler(find('HorizontalPodAutoscaler', NS, 'inference-gateway') as never);
    expect(hpa.spec?.minReplicas).toBeGreaterThan(1); // so an embedded pglite:// ledger per pod would split it
    expect(config.usage.databaseUrl).toMatch(/^postgres(ql)?:\/\//);
  });

  it('the ConfigMap sets the spend limit off and the usage admin role, as the parser reads them', () => {
    const { usage } = gatewayConfig();
    expect(usage.spendLimitUsdPerDay).toBe(0);
    expect(usage.adminRole).toBe('gateway-admin');
  });

  it('runs one Postgres 16 pod, pinned to a minor version, with its data on a 5Gi PersistentVolumeClaim', () => {
    const sts = postgres();
    expect(sts.spec?.replicas).toBe(1);
    expect(postgresContainer().image).toMatch(/^postgres:16\.\d+(-[a-z0-9.]+)?$/);
    const claim = only(sts.spec?.volumeClaimTemplates, 'volume claim templates');
    expect(claim.spec?.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim.spec?.resources?.requests?.storage).toBe('5Gi');
    const mount = postgresContainer().volumeMounts?.find((m) => m.name === claim.metadata?.name);
    expect(mount, 'the claim is mounted').toBeDefined();
    // PGDATA below the mount: initdb refuses a volume root that holds lost+found.
    const pgdata = env(postgresContainer(), 'PGDATA') ?? '/var/lib/postgresql/data';
    expect(pgdata.startsWith(`${mount!.mountPath.replace(/\/$/, '')}/`)).toBe(true);
    expect(postgresPod()?.volumes?.some((v) => v.name === claim.metadata?.name), 'no pod volume shadows the claim').toBe(false);
  });

  it('runs Postgres hardened: non-root uid >= 999 with fsGroup, read-only root with emptyDirs for the socket and /tmp, bounded resources', () => {
    const pod = postgresPod();
    const c = postgresContainer();
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext?.runAsUser ?? pod?.securityContext?.runAsUser).toBeGreaterThanOrEqual(999);
    expect(pod?.securityContext?.fsGroup).toBe(pod?.securityContext?.runAsGroup ?? c.securityContext?.runAsUser ?? pod?.securityContext?.runAsUser);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    for (const path of ['/var/run/postgresql', '/tmp']) {
      const mount = c.volumeMounts?.find((m) => m.mountPath === path);
      expect(pod?.volumes?.find((v) => v.name === mount?.name)?.emptyDir, path).toBeDefined();
    }
    expect(c.resources?.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    expect(c.resources?.limits).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.enableServiceLinks).toBe(false);
  });

  it.each(['startupProbe', 'readinessProbe'] as const)('%s runs pg_isready against the TCP port', (probe) => {
    const command = postgresContainer()[probe]?.exec?.command?.join(' ') ?? '';
    expect(command).toMatch(/\bpg_isready\b/);
    expect(command).toMatch(/-h 127\.0\.0\.1/);
    expect(command).toMatch(/-p 5432\b/);
  });

  it('livenessProbe only checks that the postmaster holds its port (not pg_isready: a busy server is unready, not dead)', () => {
    const c = postgresContainer();
    expect(resolvePort(c, c.livenessProbe?.tcpSocket?.port)).toBe(5432);
    expect(c.livenessProbe?.exec).toBeUndefined();
  });

  it('the NetworkPolicy selects the Postgres pods and lets in only the gateway pods, only on 5432', () => {
    const policy = new NetworkPolicy(find('NetworkPolicy', NS, 'usage-postgres') as never);
    expect(policy.spec?.podSelector.matchLabels).toEqual(postgres().spec?.selector.matchLabels);
    expect(policy.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec?.egress ?? [], 'Postgres calls no one').toEqual([]);
    const rule = only(policy.spec?.ingress, 'ingress rules');
    const from = only(rule.from, 'ingress peers');
    expect(from.namespaceSelector, 'no other namespace').toBeUndefined();
    expect(from.ipBlock, 'no address range').toBeUndefined();
    expect(rule.ports).toEqual([{ port: 5432, protocol: 'TCP' }]);
    const admitted = podTemplates().filter((p) => selects(from.podSelector?.matchLabels, p.labels)).map((p) => p.id);
    expect(admitted).toEqual([`Deployment ${gatewayDeployment().metadata?.name}`]);
    const guarded = podTemplates().filter((p) => selects(policy.spec?.podSelector.matchLabels, p.labels)).map((p) => p.id);
    expect(guarded).toEqual([`StatefulSet ${postgres().metadata?.name}`]);
  });
});

describe('monitoring: the Grafana dashboard ConfigMap', () => {
  const dashboardJson = () => read('k8s/base/monitoring/gateway-dashboard.json');
  const cm = () => find('ConfigMap', 'inference-gateway', 'inference-gateway-dashboard') as K8sObject & { data?: Record<string, string>; metadata: { labels?: Record<string, string> } };

  it('holds k8s/base/monitoring/gateway-dashboard.json byte for byte', () => {
    expect(cm().data).toEqual({ 'gateway-dashboard.json': dashboardJson() });
  });

  it("carries the label Grafana's dashboard sidecar looks for, under a fixed name (no stale hash-suffixed copies)", () => {
    expect(cm().metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(cm().metadata.name).toBe('inference-gateway-dashboard');
  });

  it("fits `kubectl apply`'s last-applied annotation (256 KiB)", () => {
    expect(Buffer.byteLength(dashboardJson())).toBeLessThan(256 * 1024 - 4096);
  });
});

describe('Keycloak manifests', () => {
  it('the realm ConfigMap holds keycloak/inference-gateway-realm.json byte for byte', () => {
    const cm = find('ConfigMap', 'keycloak', 'keycloak-realm') as { data?: Record<string, string> };
    expect(cm.data).toEqual({ 'inference-gateway-realm.json': realmJson() });
  });

  it('imports that ConfigMap as a realm at start-up', () => {
    const cm = find('ConfigMap', 'keycloak', 'keycloak-realm');
    const mount = keycloakContainer().volumeMounts?.find((m) => m.mountPath.replace(/\/$/, '') === '/opt/keycloak/data/import');
    const volume = keycloakDeployment().spec?.template.spec?.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.configMap?.name).toBe(cm.metadata.name); // the generated, hash-suffixed name
    // Keycloak's importer refuses (and Keycloak exits) unless the file is named `<realm>-realm.json`.
    const realm = JSON.parse(realmJson()).realm;
    expect(volume?.configMap?.items).toEqual([{ key: 'inference-gateway-realm.json', path: `${realm}-realm.json` }]);
    expect(keycloakContainer().args).toEqual(expect.arrayContaining(['start-dev', '--import-realm']));
  });

  it('runs the official Keycloak 26 image', () => {
    expect(keycloakContainer().image).toMatch(/^quay\.io\/keycloak\/keycloak:26(\.|$)/);
  });

  it('is ready when /health/ready on the management port 9000 says so', () => {
    const c = keycloakContainer();
    expect(env(c, 'KC_HEALTH_ENABLED')).toBe('true');
    expect(c.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(resolvePort(c, c.readinessProbe?.httpGet?.port)).toBe(9000);
  });

  it('the keycloak Service routes to the HTTP port', () => {
    const svc = new Service(find('Service', 'keycloak', 'keycloak') as never);
    const port = only(svc.spec?.ports, 'keycloak service ports');
    expect(resolvePort(keycloakContainer(), port.targetPort)).toBe(8080);
    expect(keycloakDeployment().spec?.template.metadata?.labels).toMatchObject(svc.spec?.selector ?? { selector: 'missing' });
  });
});

// ---- Dockerfile ------------------------------------------------------------------------------

/** The runtime (last) stage's instructions, continuation lines joined, comments dropped. */
function runtimeStage(): { op: string; args: string }[] {
  const lines = read('Dockerfile').replace(/\\\n/g, ' ').split('\n');
  const instructions = lines
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
  const lastFrom = instructions.map((i) => i.op).lastIndexOf('FROM');
  return instructions.slice(lastFrom);
}
const dockerArgs = (op: string) => runtimeStage().filter((i) => i.op === op).map((i) => i.args);
function dockerEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const args of dockerArgs('ENV')) {
    for (const pair of args.split(/\s+/)) {
      const [k, v] = pair.split('=');
      if (k && v !== undefined) out[k] = v;
    }
  }
  return out;
}

describe('Dockerfile (runtime stage)', () => {
  it('EXPOSEs the container port and sets SERVER_PORT to it', () => {
    const containerPort = only(gatewayContainer().ports, 'gateway container ports').containerPort;
    expect(dockerArgs('EXPOSE').map((p) => Number(p.replace(/\/tcp$/, '')))).toEqual([containerPort]);
    expect(dockerEnv()).toMatchObject({ SERVER_HOST: '0.0.0.0', SERVER_PORT: String(containerPort), NODE_ENV: 'production' });
  });

  it('runs as the numeric non-root UID the Deployment pins', () => {
    const user = dockerArgs('USER').at(-1) ?? '';
    expect(user.split(':')[0]).toBe(String(gatewayDeployment().spec?.template.spec?.securityContext?.runAsUser));
  });

  it('starts dist/main.js with node directly and health-checks /health', () => {
    expect(JSON.parse(dockerArgs('CMD').at(-1) ?? 'null')).toEqual(['node', ...GATEWAY_NODE_FLAGS, 'dist/main.js']);
    expect(dockerArgs('HEALTHCHECK').at(-1)).toMatch(/CMD \["node".*\/health/);
  });

  it('runs the gateway with the same node flags as `npm start` and the bench (a 16 MB young generation on every Node)', () => {
    expect(GATEWAY_NODE_FLAGS).toEqual(['--max-semi-space-size=16']);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe(['node', ...GATEWAY_NODE_FLAGS, 'dist/main.js'].join(' '));
  });
});

// ---- Taskfile ---------------------------------------------------------------------------------

interface Taskfile {
  version: string;
  vars: Record<string, unknown>;
  tasks: Record<string, { cmds?: (string | { cmd?: string; task?: string })[] }>;
}
const taskfile = () => parse(read('Taskfile.yml')) as Taskfile;
const commands = (task: string) =>
  (taskfile().tasks[task]?.cmds ?? []).map((c) => (typeof c === 'string' ? c : (c.cmd ?? `task ${c.task}`))).join('\n');

describe('Taskfile.yml', () => {
  it('is a go-task v3 file with every walkthrough task', () => {
    expect(String(taskfile().version)).toBe('3');
    expect(Object.keys(taskfile().tasks)).toEqual(
      expect.arrayContaining([
        'cluster-create',
        'cluster-delete',
        'build',
        'load',
        'deploy-keycloak',
        'proxy-keycloak',
        'token',
        'deploy-inference-gateway',
        'proxy-inference-gateway',
        'undeploy-keycloak',
        'undeploy-inference-gateway',
        'clean',
      ]),
    );
  });

  it('deploys with `kubectl apply -k` from the kustomize tree', () => {
    expect(commands('deploy-keycloak')).toContain('kubectl apply -k k8s/overlays/dev/keycloak');
    expect(commands('deploy-inference-gateway')).toContain('kubectl apply -k k8s/overlays/dev/inference-gateway');
    expect(commands('undeploy-keycloak')).toContain('kubectl delete -k k8s/overlays/dev/keycloak');
    expect(commands('undeploy-inference-gateway')).toContain('kubectl delete -k k8s/overlays/dev/inference-gateway');
    expect(commands('render')).toContain('kubectl kustomize k8s/overlays/dev');
    expect(commands('render-prod')).toContain('kubectl kustomize k8s/overlays/prod');
  });

  it.each([
    ['proxy-keycloak', 'keycloak', 'keycloak'],
    ['proxy-inference-gateway', 'inference-gateway', 'inference-gateway'],
  ])('%s port-forwards to the %s Service port', (task, namespace, name) => {
    const svcPort = only(new Service(find('Service', namespace, name) as never).spec?.ports, `${name} ports`).port;
    expect(commands(task)).toMatch(new RegExp(`-n ${namespace} port-forward svc/${name} \\S+:${svcPort}$`));
  });
});
