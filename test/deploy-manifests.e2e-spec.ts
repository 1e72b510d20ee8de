import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { parse, parseAllDocuments } from 'yaml';
import type { IJob } from 'kubernetes-models/batch/v1/Job' with { 'resolution-mode': 'import' };
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment' with { 'resolution-mode': 'import' };
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy' with { 'resolution-mode': 'import' };
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget' with { 'resolution-mode': 'import' };
import type { IContainer } from 'kubernetes-models/v1/Container' with { 'resolution-mode': 'import' };
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec' with { 'resolution-mode': 'import' };
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec' with { 'resolution-mode': 'import' };
import type { IService } from 'kubernetes-models/v1/Service' with { 'resolution-mode': 'import' };
import { CLOSE_GRACE_MS, validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from '@echo-pair/echo-server';
import { WORKER_MODES, WorkerEnvironment } from '@echo-pair/client-worker';

/*
 * The deployment manifests, checked statically: no Kubernetes cluster can run on the project's
 * machines (no image can be pulled), and the Swarm stack is deployed by its own container suite.
 *   - deploy/k8s: rendered with `kubectl kustomize` (base and the mutual-TLS overlay), every object
 *     validated against the Kubernetes schemas (kubernetes-models: its validators for types and
 *     required fields, its generated types for fields outside the schema), then the invariants
 *     that tie the manifests to the code: the probes run the image's HEALTHCHECK, the grace period
 *     covers the drain deadline, every env name is a setting and every value passes its validation,
 *     ports are the settings', the Service is headless, only the worker reaches the server, the
 *     hardening of docker-compose.yml.
 *   - deploy/swarm/stack.yml: what `docker stack deploy` accepts and needs (no build, no long
 *     depends_on, dnsrr), the same healthcheck, settings and hardening as the compose file.
 */

const ROOT = join(__dirname, '..');
const K8S_RENDERS = { base: 'deploy/k8s/base', 'mutual-tls': 'deploy/k8s/overlays/mutual-tls' } as const;
type RenderName = keyof typeof K8S_RENDERS;
const RENDER_NAMES = Object.keys(K8S_RENDERS) as RenderName[];
const MIN_KUBECTL_MINOR = 32;
/** After the drain deadline the server gives peers 1 s to close (docs/operations.md, "Shutdown"). */
/** The side port for metrics and health over HTTP; METRICS_PORT's default once it is a setting. */
const METRICS_PORT_DEFAULT = 9464;
const IMAGE_PATTERN = { server: /(^|\/)echo-server(:|@|$)/, worker: /(^|\/)client-worker(:|@|$)/ } as const;

type Role = 'server' | 'worker';
type Env = Record<string, string>;
type Labels = Record<string, string>;

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  [field: string]: unknown;
}

interface Workload {
  object: KubeObject;
  role: Role;
  template: IPodTemplateSpec;
  pod: IPodSpec;
  container: IContainer;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
  apiVersion: string;
  kind: string;
}

// ---------------------------------------------------------------- the code's facts

const SETTINGS: Record<Role, { schema: new () => object; names: ReadonlySet<string> }> = {
  server: { schema: EchoServerEnvironment, names: new Set(Object.keys(new EchoServerEnvironment())) },
  worker: { schema: WorkerEnvironment, names: new Set(Object.keys(new WorkerEnvironment())) },
};

/** The settings of `role` for this environment: its values over the class defaults, validated as the process would. */
function settingsFor(role: Role, env: Env): Record<string, unknown> {
  return validateEnvironment(SETTINGS[role].schema, env) as Record<string, unknown>;
}

interface DockerStage {
  base: string;
  name: string | undefined;
  instructions: Array<{ keyword: string; args: string }>;
}

function parseDockerfile(text: string): DockerStage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  const stages: DockerStage[] = [];
  for (const instruction of logical) {
    const [, keyword, args] = /^(\S+)\s*(.*)$/s.exec(instruction) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, base, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ base, name, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** The last `keyword` in effect in stage `target`: its own, else its parent stage's. */
function dockerInstruction(stages: DockerStage[], target: string, keyword: string): string | undefined {
  const stage = stages.find((candidate) => candidate.name === target);
  if (stage === undefined) throw new Error(`Dockerfile has no stage ${target}`);
  const own = stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
  if (own !== undefined) return own.args;
  return stages.some((candidate) => candidate.name === stage.base) ? dockerInstruction(stages, stage.base, keyword) : undefined;
}

/** Go/Docker durations: `5s`, `1m30s`, `500ms`. */
function durationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new Error(`not a duration: ${text}`);
  const unit: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  return parts.reduce((sum, [, value, suffix]) => sum + Number(value) * unit[suffix], 0);
}

interface ImageHealthcheck {
  command: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

function imageHealthcheck(stages: DockerStage[], target: string): ImageHealthcheck {
  const args = dockerInstruction(stages, target, 'HEALTHCHECK');
  const [, flagText, form] = /^((?:--[\w-]+=\S+\s+)*)CMD\s+(.+)$/s.exec(args ?? '') ?? [];
  if (form === undefined) throw new Error(`stage ${target} has no HEALTHCHECK ... CMD (found: ${args})`);
  const flags = Object.fromEntries([...flagText.matchAll(/--([\w-]+)=(\S+)/g)].map(([, key, value]) => [key, value]));
  // Docker's defaults for flags not given.
  return {
    command: form.trim().startsWith('[') ? (JSON.parse(form) as string[]) : ['/bin/sh', '-c', form.trim()],
    intervalMs: durationMs(flags.interval ?? '30s'),
    timeoutMs: durationMs(flags.timeout ?? '30s'),
    startPeriodMs: durationMs(flags['start-period'] ?? '0s'),
    retries: Number(flags.retries ?? 3),
  };
}

// ---------------------------------------------------------------- compose and stack files

interface ComposeService {
  image?: string;
  build?: unknown;
  depends_on?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test?: string[] | string; interval?: string; timeout?: string; start_period?: string; retries?: number };
  stop_grace_period?: string;
  ports?: unknown[];
  volumes?: unknown[];
  restart?: string;
  deploy?: {
    mode?: string;
    replicas?: number | string;
    endpoint_mode?: string;
    update_config?: { parallelism?: number; order?: string };
    restart_policy?: { condition?: string };
    resources?: { limits?: { memory?: string; pids?: number; cpus?: string } };
  };
  [key: string]: unknown;
}

interface ComposeFile {
  'x-hardening'?: Record<string, unknown>;
  services: Record<string, ComposeService>;
  networks?: Record<string, { driver?: string } | null>;
}

function readCompose(path: string): ComposeFile {
  return parse(readFileSync(join(ROOT, path), 'utf8'), { merge: true }) as ComposeFile;
}

/** `${NAME:-default}`, `${NAME-default}` and `${NAME}` as they would read with nothing set. */
function withDefaults(value: string): string {
  return value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_match, _name, fallback?: string) => fallback ?? '');
}

function composeEnv(service: ComposeService): Env {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((entry) => [entry.split('=')[0], entry.slice(entry.indexOf('=') + 1)])
    : Object.entries(service.environment ?? {}).map(([name, value]) => [name, value === null ? '' : String(value)]);
  return Object.fromEntries(entries.map(([name, value]) => [name, withDefaults(value)]));
}

function composeRole(service: ComposeService): Role {
  const image = withDefaults(service.image ?? '');
  if (IMAGE_PATTERN.server.test(image)) return 'server';
  if (IMAGE_PATTERN.worker.test(image)) return 'worker';
  throw new Error(`unknown image ${image}`);
}

/** Docker's byte sizes are binary: `512M` is 512 MiB. */
function dockerBytes(text: string): number {
  const [, value, unit] = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(text) ?? [];
  if (value === undefined) throw new Error(`not a Docker size: ${text}`);
  return Number(value) * 1024 ** ['b', 'k', 'm', 'g'].indexOf((unit || 'b').toLowerCase());
}

function kubeBytes(text: string | number): number {
  const [, value, unit] = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(text)) ?? [];
  if (value === undefined) throw new Error(`not a memory quantity: ${text}`);
  const factor: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(value) * (unit === undefined ? 1 : factor[unit]);
}

// ---------------------------------------------------------------- Kubernetes helpers

function kubectl(args: string[]): string {
  const result = spawnSync('kubectl', args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.error !== undefined && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(
      'kubectl is not installed. The Kubernetes manifests are checked statically by rendering them with ' +
        `\`kubectl kustomize\` (kubectl >= 1.${MIN_KUBECTL_MINOR}, no cluster needed): run \`bash scripts/provision-kubectl.sh\` as root.`,
    );
  }
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`kubectl ${args.join(' ')} failed: ${result.error?.message ?? `exit ${result.status}`}\n${result.stderr}`);
  }
  return result.stdout;
}

function render(directory: string): KubeObject[] {
  const documents = parseAllDocuments(kubectl(['kustomize', directory]));
  if (!Array.isArray(documents)) throw new Error(`kubectl kustomize ${directory} rendered nothing`);
  return documents.map((document, index) => {
    if (document.errors.length > 0) throw new Error(`${directory}, document ${index}: ${document.errors.map(String).join('; ')}`);
    return document.toJS() as KubeObject;
  });
}

const label = (object: KubeObject): string => `${object.kind}/${object.metadata.name}`;

function podTemplateOf(object: KubeObject): IPodTemplateSpec | undefined {
  const spec = object.spec as { template?: IPodTemplateSpec; jobTemplate?: { spec?: { template?: IPodTemplateSpec } } } | undefined;
  return spec?.template ?? spec?.jobTemplate?.spec?.template;
}

function workloadsOf(objects: KubeObject[]): Workload[] {
  return objects.flatMap((object) => {
    const template = podTemplateOf(object);
    if (template?.spec === undefined) return [];
    const pod = template.spec;
    return [...(pod.initContainers ?? []), ...pod.containers].map((container) => {
      const role = (Object.keys(IMAGE_PATTERN) as Role[]).find((candidate) => IMAGE_PATTERN[candidate].test(container.image ?? ''));
      if (role === undefined)
        throw new Error(`${label(object)}: container ${container.name} runs an image of neither service: ${container.image}`);
      return { object, role, template, pod, container };
    });
  });
}

function literalEnv(container: IContainer): Env {
  return Object.fromEntries(
    (container.env ?? []).filter((entry) => entry.value !== undefined).map((entry) => [entry.name, entry.value ?? '']),
  );
}

function selects(selector: { matchLabels?: Labels; matchExpressions?: unknown[] } | undefined, labels: Labels | undefined): boolean {
  if (selector === undefined) return false;
  if ((selector.matchExpressions ?? []).length > 0) throw new Error('matchExpressions are not checked here: use matchLabels');
  const wanted = Object.entries(selector.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}

/** Where `role`'s settings put each named container port: the name is the contract. */
const PORT_SETTINGS: Record<string, { setting: string; protocol: 'TCP' | 'UDP'; enabledBy?: string }> = {
  echo: { setting: 'ECHO_PORT', protocol: 'TCP' },
  text: { setting: 'TEXT_PORT', protocol: 'TCP', enabledBy: 'TEXT_ENABLED' },
  udp: { setting: 'UDP_PORT', protocol: 'UDP', enabledBy: 'UDP_ENABLED' },
  metrics: { setting: 'METRICS_PORT', protocol: 'TCP' },
};

function expectedPort(settings: Record<string, unknown>, setting: string): number {
  // METRICS_PORT is being added to the settings; until then its port is the agreed default.
  if (setting === 'METRICS_PORT' && !(setting in settings)) return METRICS_PORT_DEFAULT;
  return settings[setting] as number;
}

/** A Service's or NetworkPolicy's port (a name or a number) as the server container's port. */
function resolvePort(container: IContainer, port: string | number | undefined, protocol = 'TCP') {
  return (container.ports ?? []).find(
    (candidate) =>
      (candidate.protocol ?? 'TCP') === protocol && (typeof port === 'string' ? candidate.name === port : candidate.containerPort === port),
  );
}

/**
 * Fields outside the Kubernetes schema: kubernetes-models' validators ignore unknown fields, so
 * each object is type-checked against the library's generated interface (an object literal may
 * only name known properties), in memory with the TypeScript compiler.
 */
function fieldsOutsideSchema(objects: KubeObject[]): string[] {
  const file = join(ROOT, 'test', '__rendered-manifests__.mts');
  let text = objects
    .map((object, index) => `import type { I${object.kind} as T${index} } from 'kubernetes-models/${object.apiVersion}/${object.kind}';\n`)
    .join('');
  const ranges: Array<{ start: number; end: number; object: KubeObject }> = [];
  objects.forEach((object, index) => {
    const start = text.length;
    text += `export const o${index}: T${index} = ${JSON.stringify(object, null, 2)};\n`;
    ranges.push({ start, end: text.length, object });
  });
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, ...rest) => (name === file ? source : getSourceFile.call(host, name, ...rest));
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? text : readFile.call(host, name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, source).map((diagnostic) => {
    const owner = ranges.find((range) => diagnostic.start !== undefined && diagnostic.start >= range.start && diagnostic.start < range.end);
    const path =
      diagnostic.start === undefined ? '' : ` (line ${source.getLineAndCharacterOfPosition(diagnostic.start).line + 1} of the check)`;
    return `${owner === undefined ? 'import' : label(owner.object)}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}${path}`;
  });
}

async function modelFor(object: KubeObject): Promise<ModelClass> {
  const specifier = `kubernetes-models/${object.apiVersion}/${object.kind}`;
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${label(object)}: unknown kind ${object.apiVersion} ${object.kind} (no ${specifier}): ${String(error)}`, {
      cause: error,
    });
  }
  const model = module[object.kind] as ModelClass | undefined;
  if (model === undefined || model.apiVersion !== object.apiVersion || model.kind !== object.kind) {
    throw new Error(`${label(object)}: unknown kind ${object.apiVersion} ${object.kind}`);
  }
  return model;
}

// ---------------------------------------------------------------- the suite

const dockerStages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const healthcheck = imageHealthcheck(dockerStages, 'echo-server');
const compose = readCompose('docker-compose.yml');
const composeByRole = Object.fromEntries(Object.values(compose.services).map((service) => [composeRole(service), service])) as Record<
  Role,
  ComposeService
>;

describe('deployment manifests (checked statically)', () => {
  it('reads the facts they are checked against: the image healthcheck and WORKDIR, the settings classes, the compose file', () => {
    expect(healthcheck.command.join(' ')).toMatch(/healthcheck/);
    expect(dockerInstruction(dockerStages, 'echo-server', 'WORKDIR')).toBe('/app');
    expect(SETTINGS.server.names.size).toBeGreaterThan(10);
    for (const name of ['ECHO_PORT', 'DRAIN_TIMEOUT_MS', 'TLS_CERT_FILE', 'LOG_LEVEL']) expect(SETTINGS.server.names.has(name)).toBe(true);
    for (const name of ['ECHO_SERVER_HOST', 'ECHO_SERVER_PORT', 'TLS_SERVER_NAME', 'LOG_LEVEL'])
      expect(SETTINGS.worker.names.has(name)).toBe(true);
    expect(SETTINGS.server.names.has('ECHO_SERVER_HOST')).toBe(false);
    expect(compose['x-hardening']).toEqual(expect.objectContaining({ read_only: true, cap_drop: ['ALL'] }));
    expect(Object.keys(composeByRole).sort()).toEqual(['server', 'worker']);
  });

  describe('Kubernetes: deploy/k8s rendered with kubectl kustomize (no cluster runs here)', () => {
    const renders = {} as Record<RenderName, KubeObject[]>;

    beforeAll(() => {
      const version = JSON.parse(kubectl(['version', '--client', '-o', 'json'])) as {
        clientVersion: { minor: string; gitVersion: string };
      };
      const minor = Number.parseInt(version.clientVersion.minor, 10);
      if (!(minor >= MIN_KUBECTL_MINOR)) {
        throw new Error(
          `kubectl ${version.clientVersion.gitVersion} is older than 1.${MIN_KUBECTL_MINOR}: run \`bash scripts/provision-kubectl.sh\` as root`,
        );
      }
      for (const name of RENDER_NAMES) renders[name] = render(K8S_RENDERS[name]);
    });

    it('the checks can fail: the schema validators, the field check and the selector match reject what they should', async () => {
      const deployment: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'probe' },
        spec: {
          selector: { matchLabels: { a: '1' } },
          template: { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      };
      const spec = deployment.spec as Record<string, unknown>;
      const Model = await modelFor(deployment);
      expect(() => new Model(deployment).validate()).not.toThrow();
      expect(() => new Model({ ...deployment, spec: { ...spec, replicas: 'two' } }).validate()).toThrow();
      expect(() => new Model({ ...deployment, spec: { ...spec, selector: undefined } }).validate()).toThrow();
      await expect(modelFor({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'x' } })).rejects.toThrow(/unknown kind/);
      expect(fieldsOutsideSchema([deployment])).toEqual([]);
      expect(fieldsOutsideSchema([{ ...deployment, spec: { ...spec, replicaCount: 2 } }]).join('\n')).toMatch(/replicaCount/);
      expect(selects({ matchLabels: { a: '1' } }, { a: '2' })).toBe(false);
      expect(selects({ matchLabels: {} }, { a: '1' })).toBe(false);
    });

    describe.each(RENDER_NAMES)('%s', (name) => {
      const objects = (): KubeObject[] => renders[name];
      const workloads = (role?: Role): Workload[] =>
        workloadsOf(objects()).filter((workload) => role === undefined || workload.role === role);
      const server = (): Workload => {
        const [first, ...others] = workloads('server');
        expect(first).toBeDefined();
        expect(others).toEqual([]);
        return first;
      };

      it('renders the server Deployment, its headless Service, PodDisruptionBudget and NetworkPolicy, and the worker Job', () => {
        const kinds = objects().map(label);
        for (const expected of [
          'Deployment/echo-server',
          'Service/echo-server',
          'PodDisruptionBudget/echo-server',
          'Job/client-worker-demo',
        ]) {
          expect(kinds).toContain(expected);
        }
        expect(objects().filter((object) => object.kind === 'NetworkPolicy').length).toBeGreaterThan(0);
        expect(new Set(kinds).size).toBe(kinds.length);
      });

      it('every object is of a known kind and valid against the Kubernetes schema', async () => {
        for (const object of objects()) {
          const Model = await modelFor(object);
          expect(() => new Model(object).validate()).not.toThrow();
        }
      });

      it('no object has a field outside the Kubernetes schema', () => {
        expect(fieldsOutsideSchema(objects())).toEqual([]);
      });

      it('the server is probed by the image HEALTHCHECK (startup, readiness, liveness), run from the image WORKDIR', () => {
        const { container } = server();
        for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
          expect(probe).toBeDefined();
          expect(probe?.exec?.command).toEqual(healthcheck.command);
          expect(probe).not.toHaveProperty('httpGet');
          expect(probe).not.toHaveProperty('tcpSocket');
          expect(probe).not.toHaveProperty('grpc');
          // The healthcheck gives up after HEALTHCHECK_TIMEOUT_MS (2 s) by itself.
          expect((probe?.timeoutSeconds ?? 1) * 1000).toBeGreaterThan(2_000);
        }
        expect(container.workingDir).toBe(dockerInstruction(dockerStages, 'echo-server', 'WORKDIR'));
      });

      it('the server gets longer than its drain deadline (plus the close grace) to stop', () => {
        const { pod, container } = server();
        const drainMs = settingsFor('server', literalEnv(container)).DRAIN_TIMEOUT_MS as number;
        expect(pod.terminationGracePeriodSeconds).toBeDefined();
        expect((pod.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(drainMs + CLOSE_GRACE_MS);
      });

      it('every env name is a setting of its service, and every value passes the settings validation', () => {
        expect(workloads().length).toBeGreaterThanOrEqual(2);
        for (const { object, role, container } of workloads()) {
          const names = (container.env ?? []).map((entry) => entry.name);
          expect({ workload: label(object), unknown: names.filter((envName) => !SETTINGS[role].names.has(envName)) }).toEqual({
            workload: label(object),
            unknown: [],
          });
          expect(new Set(names).size).toBe(names.length);
          expect(container.envFrom ?? []).toEqual([]);
          expect(() => settingsFor(role, literalEnv(container))).not.toThrow();
        }
      });

      it("the server's container ports are its settings' ports", () => {
        const { container } = server();
        const settings = settingsFor('server', literalEnv(container));
        const ports = container.ports ?? [];
        for (const port of ports) {
          const contract = PORT_SETTINGS[port.name ?? ''];
          expect({ port: port.name, known: contract !== undefined }).toEqual({ port: port.name, known: true });
          expect(port.protocol ?? 'TCP').toBe(contract.protocol);
          expect({ port: port.name, containerPort: port.containerPort }).toEqual({
            port: port.name,
            containerPort: expectedPort(settings, contract.setting),
          });
        }
        for (const [portName, contract] of Object.entries(PORT_SETTINGS)) {
          if (contract.enabledBy === undefined || settings[contract.enabledBy] === true)
            expect(ports.map((port) => port.name)).toContain(portName);
        }
      });

      it('the Service is headless, selects exactly the server pods and maps every port to a server port; the worker connects to it', () => {
        const { template, container } = server();
        const services = objects().filter((object) => object.kind === 'Service') as unknown as IService[];
        const serving = services.filter((candidate) => selects({ matchLabels: candidate.spec?.selector }, template.metadata?.labels));
        expect(serving).toHaveLength(1);
        const [service] = serving;
        expect(service.spec?.clusterIP).toBe('None');
        for (const worker of workloads('worker'))
          expect(selects({ matchLabels: service?.spec?.selector }, worker.template.metadata?.labels)).toBe(false);
        for (const port of service?.spec?.ports ?? []) {
          const target = resolvePort(container, port.targetPort ?? port.port, port.protocol);
          expect({ port: port.name, target: target?.name }).toEqual({ port: port.name, target: expect.any(String) as string });
          expect(port.port).toBe(target?.containerPort);
        }
        const echoPort = (service?.spec?.ports ?? []).find(
          (port) => resolvePort(container, port.targetPort ?? port.port, port.protocol)?.name === 'echo',
        );
        for (const worker of workloads('worker')) {
          const settings = settingsFor('worker', literalEnv(worker.container));
          expect(settings.ECHO_SERVER_HOST).toBe(service?.metadata?.name);
          expect(settings.ECHO_SERVER_PORT).toBe(echoPort?.port);
          // A Service link named ECHO_SERVER_* would collide with the worker's own settings.
          expect(worker.pod.enableServiceLinks).toBe(false);
        }
      });

      it('only the worker reaches the server, and only on its protocol ports', () => {
        const { template, container } = server();
        const policies = (objects().filter((object) => object.kind === 'NetworkPolicy') as unknown as INetworkPolicy[]).filter((policy) =>
          selects(policy.spec?.podSelector, template.metadata?.labels),
        );
        expect(policies.length).toBeGreaterThan(0);
        const workerLabels = workloads('worker').map((worker) => worker.template.metadata?.labels);
        const allowed = new Set<string>();
        for (const policy of policies) {
          expect(policy.spec?.policyTypes).toContain('Ingress');
          for (const rule of policy.spec?.ingress ?? []) {
            // No `from` would admit every source, no `ports` every port (metrics included).
            expect(rule.from?.length).toBeGreaterThan(0);
            expect(rule.ports?.length).toBeGreaterThan(0);
            for (const peer of rule.from ?? []) {
              expect(Object.keys(peer)).toEqual(['podSelector']);
              expect(workerLabels.some((labels) => selects(peer.podSelector, labels))).toBe(true);
              expect(selects(peer.podSelector, template.metadata?.labels)).toBe(false);
            }
            for (const port of rule.ports ?? []) {
              const target = resolvePort(container, port.port, port.protocol);
              expect({ policyPort: port.port, target: target?.name }).toEqual({
                policyPort: port.port,
                target: expect.any(String) as string,
              });
              expect(target?.name).not.toBe('metrics');
              allowed.add(target?.name ?? '');
            }
          }
        }
        expect([...allowed]).toContain('echo');
      });

      it("every container is hardened like docker-compose.yml's: non-root, read-only root, no capabilities, no privilege escalation, seccomp RuntimeDefault, limits", () => {
        for (const { object, role, pod, container } of workloads()) {
          const where = `${label(object)} ${container.name}`;
          const podContext = pod.securityContext ?? {};
          const context = container.securityContext ?? {};
          expect({ where, runAsNonRoot: context.runAsNonRoot ?? podContext.runAsNonRoot }).toEqual({ where, runAsNonRoot: true });
          // The image's USER is a name (`node`): runAsNonRoot is verifiable only with a numeric uid.
          expect(context.runAsUser ?? podContext.runAsUser).toBeGreaterThan(0);
          expect({ where, readOnlyRootFilesystem: context.readOnlyRootFilesystem }).toEqual({ where, readOnlyRootFilesystem: true });
          expect({ where, allowPrivilegeEscalation: context.allowPrivilegeEscalation }).toEqual({ where, allowPrivilegeEscalation: false });
          expect(context.privileged ?? false).toBe(false);
          expect(context.capabilities?.drop).toContain('ALL');
          expect(context.capabilities?.add ?? []).toEqual([]);
          expect({ where, seccomp: (context.seccompProfile ?? podContext.seccompProfile)?.type }).toEqual({
            where,
            seccomp: 'RuntimeDefault',
          });
          expect(pod.automountServiceAccountToken).toBe(false);
          for (const hostNamespace of ['hostNetwork', 'hostPID', 'hostIPC'] as const) expect(pod[hostNamespace] ?? false).toBe(false);
          // compose's tmpfs on /tmp: the only writable path, in memory.
          const tmp = (container.volumeMounts ?? []).find((mount) => mount.mountPath === '/tmp');
          const tmpVolume = (pod.volumes ?? []).find((volume) => volume.name === tmp?.name);
          expect(tmpVolume?.emptyDir?.medium).toBe('Memory');
          expect(tmpVolume?.emptyDir?.sizeLimit).toBeDefined();
          expect(container.resources?.requests?.cpu).toBeDefined();
          expect(container.resources?.requests?.memory).toBeDefined();
          const composeLimit = composeByRole[role].deploy?.resources?.limits?.memory;
          expect({ where, memoryLimit: kubeBytes(container.resources?.limits?.memory ?? 0) }).toEqual({
            where,
            memoryLimit: dockerBytes(composeLimit ?? '0'),
          });
        }
      });

      it('the server runs replicated, rolls out without losing capacity, and voluntary disruptions take one pod at a time', () => {
        const { object, template } = server();
        const deployment = object as unknown as IDeployment;
        const replicas = deployment.spec?.replicas ?? 1;
        expect(replicas).toBeGreaterThanOrEqual(2);
        expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
        const budgets = (
          objects().filter((candidate) => candidate.kind === 'PodDisruptionBudget') as unknown as IPodDisruptionBudget[]
        ).filter((budget) => selects(budget.spec?.selector, template.metadata?.labels));
        expect(budgets).toHaveLength(1);
        const { maxUnavailable, minAvailable } = budgets[0].spec ?? {};
        // A budget that allows no disruption at all would block every node drain.
        if (maxUnavailable !== undefined) expect(Number.parseInt(String(maxUnavailable), 10)).toBeGreaterThanOrEqual(1);
        else expect(Number(minAvailable)).toBeLessThan(replicas);
      });

      it('the worker is a Job running the demo to completion, bounded in retries and time', () => {
        const jobs = workloads('worker').filter((worker) => worker.object.kind === 'Job');
        expect(jobs).toHaveLength(1);
        const [{ object, pod, container }] = jobs;
        const job = object as unknown as IJob;
        expect(['Never', 'OnFailure']).toContain(pod.restartPolicy);
        expect(job.spec?.backoffLimit).toBeDefined();
        expect(job.spec?.activeDeadlineSeconds).toBeGreaterThan(0);
        expect(container.command).toBeUndefined();
        expect(container.args).toEqual(['demo']);
        expect(WORKER_MODES).toContain(container.args?.[0]);
      });
    });

    it('the mutual-TLS overlay adds certificates from referenced Secrets, each pod only its own, to the same objects', () => {
      expect(renders['mutual-tls'].map(label).sort()).toEqual(renders.base.map(label).sort());
      expect(renders['mutual-tls'].filter((object) => object.kind === 'Secret')).toEqual([]);
      const secrets = new Set<string>();
      for (const { object, role, pod, container } of workloadsOf(renders['mutual-tls'])) {
        const settings = settingsFor(role, literalEnv(container));
        for (const setting of ['TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_CA_FILE'])
          expect({ setting, value: typeof settings[setting] }).toEqual({ setting, value: 'string' });
        if (role === 'server') expect(settings.TLS_REQUIRE_CLIENT_CERT).toBe(true);
        else expect(settings.TLS_SERVER_NAME).toBe(settings.ECHO_SERVER_HOST);
        const files = Object.entries(settings).filter(([setting]) => /^TLS_.*_FILE$/.test(setting));
        for (const [setting, path] of files) {
          const where = `${label(object)} ${setting}=${String(path)}`;
          const mount = (container.volumeMounts ?? []).find((candidate) => String(path).startsWith(`${candidate.mountPath}/`));
          expect({ where, readOnly: mount?.readOnly }).toEqual({ where, readOnly: true });
          const secret = (pod.volumes ?? []).find((volume) => volume.name === mount?.name)?.secret;
          expect({ where, secret: secret?.secretName }).toEqual({ where, secret: expect.any(String) as string });
          secrets.add(`${role}:${secret?.secretName}`);
          const relative = String(path).slice((mount?.mountPath.length ?? 0) + 1);
          expect({ where, mapped: (secret?.items ?? []).some((item) => item.path === relative) }).toEqual({ where, mapped: true });
          // Readable by the pod's group at most, never by others; the other side's key and the CA key never mounted.
          expect((secret?.defaultMode ?? 0o644) & 0o007).toBe(0);
          const paths = (secret?.items ?? []).map((item) => item.path);
          expect(paths).not.toContain('ca.key');
          expect(paths).not.toContain(role === 'server' ? 'client.key' : 'server.key');
        }
      }
      const names = [...secrets].map((entry) => entry.split(':')[1]);
      expect(new Set(names).size).toBe(2);
    });
  });

  describe('Docker Swarm: deploy/swarm/stack.yml', () => {
    const stack = readCompose('deploy/swarm/stack.yml');
    const services = Object.entries(stack.services);
    const serverName = services.find(([, service]) => composeRole(service) === 'server')?.[0] ?? '';

    it("runs compose's images, one server and one worker service, on an overlay network", () => {
      expect(services.map(([, service]) => composeRole(service)).sort()).toEqual(['server', 'worker']);
      for (const [, service] of services) expect(service.image).toBe(composeByRole[composeRole(service)].image);
      for (const [, network] of Object.entries(stack.networks ?? {})) expect(network?.driver).toBe('overlay');
    });

    it('has nothing `docker stack deploy` ignores or rejects: no build, no long depends_on, no restart, no ingress ports with dnsrr', () => {
      for (const [name, service] of services) {
        expect({ name, build: service.build }).toEqual({ name, build: undefined });
        expect({ name, restart: service.restart }).toEqual({ name, restart: undefined });
        if (service.depends_on !== undefined) expect(Array.isArray(service.depends_on)).toBe(true);
        for (const port of service.ports ?? []) expect(port).toEqual(expect.objectContaining({ mode: 'host' }));
      }
    });

    it('every service uses dnsrr, updates one task at a time with an explicit order, restarts by policy and has limits', () => {
      for (const [name, service] of services) {
        const deploy = service.deploy ?? {};
        expect({ name, endpoint_mode: deploy.endpoint_mode }).toEqual({ name, endpoint_mode: 'dnsrr' });
        expect({ name, parallelism: deploy.update_config?.parallelism }).toEqual({ name, parallelism: 1 });
        expect(['start-first', 'stop-first']).toContain(deploy.update_config?.order);
        expect(deploy.restart_policy?.condition).toBeDefined();
        const limits = composeByRole[composeRole(service)].deploy?.resources?.limits;
        expect(deploy.resources?.limits?.memory).toBe(limits?.memory);
        expect(deploy.resources?.limits?.pids).toBe(limits?.pids);
      }
      expect(Number(withDefaults(String(stack.services[serverName].deploy?.replicas)))).toBeGreaterThanOrEqual(2);
    });

    it("the server's healthcheck is the image's, and its stop grace period covers the drain", () => {
      const server = stack.services[serverName];
      expect(server.healthcheck?.test).toEqual(['CMD', ...healthcheck.command]);
      expect(durationMs(server.healthcheck?.interval ?? '')).toBe(healthcheck.intervalMs);
      expect(durationMs(server.healthcheck?.timeout ?? '')).toBe(healthcheck.timeoutMs);
      expect(durationMs(server.healthcheck?.start_period ?? '')).toBe(healthcheck.startPeriodMs);
      expect(server.healthcheck?.retries).toBe(healthcheck.retries);
      const drainMs = settingsFor('server', composeEnv(server)).DRAIN_TIMEOUT_MS as number;
      expect(durationMs(server.stop_grace_period ?? '10s')).toBeGreaterThan(drainMs + CLOSE_GRACE_MS);
    });

    it('every env name is a setting of its service, every default value passes validation, and the worker reaches the server by name', () => {
      for (const [name, service] of services) {
        const role = composeRole(service);
        const env = composeEnv(service);
        expect({ name, unknown: Object.keys(env).filter((envName) => !SETTINGS[role].names.has(envName)) }).toEqual({ name, unknown: [] });
        expect(() => settingsFor(role, env)).not.toThrow();
      }
      const worker = services.find(([, service]) => composeRole(service) === 'worker')?.[1];
      const workerSettings = settingsFor('worker', composeEnv(worker ?? {}));
      expect(workerSettings.ECHO_SERVER_HOST).toBe(serverName);
      expect(workerSettings.ECHO_SERVER_PORT).toBe(settingsFor('server', composeEnv(stack.services[serverName])).ECHO_PORT);
    });

    it("the hardening is docker-compose.yml's x-hardening, with /tmp as a tmpfs swarm applies", () => {
      const hardening = compose['x-hardening'] ?? {};
      expect(stack['x-hardening']).toEqual(hardening);
      const [, tmpTarget, tmpSize] = /^([^:]+):.*\bsize=(\w+)/.exec(String((hardening.tmpfs as string[] | undefined)?.[0])) ?? [];
      for (const [name, service] of services) {
        for (const [key, value] of Object.entries(hardening)) expect({ name, [key]: service[key] }).toEqual({ name, [key]: value });
        // `docker stack deploy` drops the short tmpfs form silently; the long volume form is applied.
        const tmp = (service.volumes ?? []).find((volume) => (volume as { target?: string }).target === tmpTarget) as
          { type?: string; tmpfs?: { size?: number } } | undefined;
        expect({ name, type: tmp?.type, size: tmp?.tmpfs?.size }).toEqual({ name, type: 'tmpfs', size: dockerBytes(tmpSize ?? '') });
      }
    });
  });
});
