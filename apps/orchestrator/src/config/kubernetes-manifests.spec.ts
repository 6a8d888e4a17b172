import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { getMetadataStorage } from 'class-validator';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { AppConfig } from './app-config.js';

const DIR = new URL('../../../../deploy/kubernetes/', import.meta.url).pathname;
const SRC = new URL('../', import.meta.url).pathname;

interface Manifest {
  kind: string;
  metadata: { name: string };
  [field: string]: unknown;
}

interface EnvVar {
  name: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}

interface Container {
  name: string;
  command: string[];
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  startupProbe?: { httpGet: { path: string; port: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
}

interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
}

const files = readdirSync(DIR).filter((name) => name.endsWith('.yaml'));
/** What the base applies: every manifest but the kustomization and the examples (a Secret to create). */
const applied = files.filter((name) => name !== 'kustomization.yaml' && !name.endsWith('.example.yaml'));
const manifests: Manifest[] = files
  .filter((name) => name !== 'kustomization.yaml')
  .flatMap((name) =>
    parseAllDocuments(readFileSync(join(DIR, name), 'utf8')).map((document) => {
      expect(document.errors, name).toEqual([]);
      return document.toJS() as Manifest;
    }),
  );
const one = <T extends Manifest>(kind: string, name?: string): T => {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  expect(found.map((m) => m.metadata.name), kind).toHaveLength(1);
  return found[0] as T;
};
const deployment = one<Manifest & { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } }>('Deployment');
const pod = deployment.spec.template.spec;
const [container] = pod.containers as [Container];
const configMap = one<Manifest & { data: Record<string, string> }>('ConfigMap');
const secret = one<Manifest & { stringData: Record<string, string> }>('Secret');
const keysOf = (kind: string, name: string): string[] => {
  const found = manifests.find((m): m is Manifest & { data?: object; stringData?: object } => m.kind === kind && m.metadata.name === name);
  return found ? Object.keys({ ...found.data, ...found.stringData }) : [];
};

/** The settings the orchestrator reads, from the validation rules of AppConfig. */
const settings = new Set(getMetadataStorage().getTargetValidationMetadatas(AppConfig, '', true, false).map((rule) => rule.propertyName));

/**
 * Every HTTP route of the app: the paths of the handlers of its controllers (`*.controller.ts`,
 * from their Nest metadata). Read from the files rather than AppModule, whose import validates
 * the environment.
 */
async function routes(dir = SRC): Promise<Set<string>> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.controller.ts')) continue;
    const exported = (await import(join(entry.parentPath, entry.name))) as Record<string, unknown>;
    for (const controller of Object.values(exported)) {
      if (typeof controller !== 'function' || !Reflect.hasMetadata(PATH_METADATA, controller)) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller));
      const prototype = (controller as { prototype: Record<string, unknown> }).prototype;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[key];
        const path = typeof handler === 'function' && key !== 'constructor' ? (Reflect.getMetadata(PATH_METADATA, handler) as string | undefined) : undefined;
        if (path !== undefined) found.add(`/${[base, path].filter((part) => part && part !== '/').join('/')}`);
      }
    }
  }
  return found;
}

describe('the Kubernetes manifests (deploy/kubernetes)', () => {
  const kustomization = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]?.toJS() as { resources: string[]; images: { name: string; newTag?: string; digest?: string }[] };

  it('are all listed in kustomization.yaml but the examples, and it lists no other: the Secret is never applied over the real one', () => {
    expect([...kustomization.resources].sort()).toEqual([...applied].sort());
    expect(applied.filter((name) => readFileSync(join(DIR, name), 'utf8').includes('kind: Secret'))).toEqual([]);
  });

  it('pin every image to a release, never latest', () => {
    const images = manifests.flatMap((m) => JSON.stringify(m).match(/"image":"[^"]+"/g) ?? []).map((field) => field.slice('"image":"'.length, -1));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image, image).toMatch(/^[^:@]+(:(?!latest$)[\w.-]+|@sha256:[0-9a-f]{64})$/);
    for (const image of kustomization.images) expect(image.digest ?? image.newTag, image.name).toMatch(/^(?!latest$)[\w.:-]+$/);
  });

  it('let the pods take HTTP on their port only, and reach only DNS, NATS, PostgreSQL, Redis and Consul', () => {
    const policy = one<Manifest & { spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: { ports: { port: string | number }[] }[]; egress: { ports: { port: number }[] }[] } }>('NetworkPolicy');
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(policy.spec.ingress.flatMap((rule) => rule.ports.map((port) => port.port))).toEqual(['http']);
    expect(new Set(policy.spec.egress.flatMap((rule) => rule.ports.map((port) => port.port)))).toEqual(new Set([53, 4222, 5432, 6379, 8500]));
  });

  it('log in to NATS as the orchestrator user of the permissions file, its password from the Secret', () => {
    expect(configMap.data).toMatchObject({ NATS_USER: 'orchestrator', NATS_INBOX_PREFIX: '_INBOX_orchestrator' });
    expect(container.env?.find((env) => env.name === 'NATS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: secret.metadata.name, key: 'NATS_PASSWORD' });
    // The example's values cannot run: its API key is shorter than the 16 characters required.
    expect((secret.stringData['API_KEY'] ?? '').length).toBeLessThan(16);
  });

  it('run two replicas of the orchestrator, as a non-root user, with resources', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(container.command).toEqual(['node', 'apps/orchestrator/dist/main.js']);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(Object.keys(container.resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources?.limits ?? {})).toContain('memory');
  });

  it('take only settings the orchestrator has, from a ConfigMap and a Secret that hold them', () => {
    const names = [...(container.env ?? []).map((env) => env.name)];
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef) names.push(...keysOf('ConfigMap', source.configMapRef.name));
      if (source.secretRef) names.push(...keysOf('Secret', source.secretRef.name));
      expect(keysOf(source.configMapRef ? 'ConfigMap' : 'Secret', source.configMapRef?.name ?? source.secretRef?.name ?? '').length).toBeGreaterThan(0);
    }
    expect(names.filter((name) => !settings.has(name))).toEqual([]);
    for (const env of container.env ?? []) {
      const ref = env.valueFrom?.secretKeyRef ?? env.valueFrom?.configMapKeyRef;
      if (ref) expect(keysOf(env.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name), `${env.name} from ${ref.name}`).toContain(ref.key);
    }
    // The secrets come from the Secret, never from the ConfigMap.
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'API_KEY', 'NATS_PASSWORD']) {
      expect(container.env?.find((env) => env.name === key)?.valueFrom?.secretKeyRef?.name).toBe(secret.metadata.name);
      expect(Object.keys(configMap.data)).not.toContain(key);
    }
  });

  // Importing every controller takes seconds on a busy machine.
  it('probe routes the app serves, on the port it listens on', { timeout: 60_000 }, async () => {
    const served = await routes();
    expect(served).toContain('/metrics');
    expect(container.livenessProbe?.httpGet.path).toBe('/health/live');
    expect(container.readinessProbe?.httpGet.path).toBe('/health/ready');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      if (!probe) continue;
      expect(served).toContain(probe.httpGet.path);
      expect(container.ports?.find((port) => port.name === probe.httpGet.port)?.containerPort).toBe(Number(configMap.data['PORT']));
    }
  });

  it('let a replica leave the Service before it stops, within its grace period', () => {
    const command = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(command[0]).toBe('sleep');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(command[1]) + 20);
  });

  it('select the Deployment pods from the Service and the PodDisruptionBudget', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    const service = one<Manifest & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }>('Service');
    expect(labels).toMatchObject(service.spec.selector);
    expect(container.ports?.map((port) => port.name)).toContain(service.spec.ports[0]?.targetPort);
    const budget = one<Manifest & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget');
    expect(labels).toMatchObject(budget.spec.selector.matchLabels);
    expect(budget.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('migrate with a Job running the typeorm CLI of the image, with the database from the Secret', () => {
    const job = one<Manifest & { spec: { template: { spec: PodSpec & { restartPolicy: string } } } }>('Job');
    const [migrate] = job.spec.template.spec.containers as [Container];
    expect(migrate.command).toEqual(['node', 'node_modules/typeorm/cli.js', 'migration:run', '-d', 'apps/orchestrator/dist/persistence/data-source.js']);
    // The same as `npm run migration:run`, without npm (and without .env: the settings come from the Secret and the ConfigMap).
    const scripts = (JSON.parse(readFileSync(join(DIR, '../../package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['migration:run']).toMatch(new RegExp(`^node (--env-file-if-exists=\\.env )?${migrate.command.slice(1).join(' ').replaceAll('.', '\\.')}$`));
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    const database = migrate.env?.find((env) => env.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
    expect(database && keysOf('Secret', database.name)).toContain(database?.key);
  });
});
