/**
 * Loads a Compose file the way `docker compose config` does, without the binary: YAML (with
 * `<<` merge keys and anchors) → variable interpolation (./interpolate.ts) → validation against
 * the Compose Specification's JSON schema (./compose-spec.json, vendored from compose-go; see
 * ./README.md) → the short syntaxes in their long form → compose-go's consistency checks
 * (every depends_on, volume, network, secret and config reference exists, healthcheck tests,
 * replicas, mount targets, dependency cycles), plus one check `config` leaves to `up`: a
 * `service_healthy` dependency must have a healthcheck. Every problem is collected and
 * reported together.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { interpolateModel, type ComposeEnvironment } from './interpolate.js';

const SCHEMA_URL = new URL('./compose-spec.json', import.meta.url);

/** A Compose file that Compose would refuse, with every reason. */
export class ComposeFileError extends Error {
  override readonly name = 'ComposeFileError';

  /**
   * @param file the file's name, for the message
   * @param problems one line per problem, each with its path in the file
   */
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file} is not a valid Compose file:\n  - ${problems.join('\n  - ')}`);
  }
}

/** A published port, in Compose's long form. */
export interface PortMapping {
  readonly target: number;
  /** A port or a range (`8000-8010`); `undefined` when Docker picks one. */
  readonly published: string | undefined;
  /** `undefined` = every interface. */
  readonly hostIp: string | undefined;
  readonly protocol: string;
}

/** A mount, in Compose's long form. */
export interface VolumeMount {
  readonly type: string;
  /** A volume's name or a host path; `undefined` for an anonymous volume. */
  readonly source: string | undefined;
  readonly target: string;
  readonly readOnly: boolean;
}

/** One `depends_on` entry, with Compose's defaults filled in. */
export interface Dependency {
  readonly condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  readonly required: boolean;
  readonly restart: boolean;
}

/** A container healthcheck; `test[0]` is `CMD`, `CMD-SHELL` or `NONE`. */
export interface Healthcheck {
  readonly test: readonly string[];
  readonly intervalMs: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly retries: number | undefined;
}

/** One service of the resolved file. */
export interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  /** Build context and Dockerfile, both relative to the file's folder as written. */
  readonly build: { readonly context: string; readonly dockerfile: string } | undefined;
  readonly command: readonly string[] | string | undefined;
  /** Values as the container gets them; `null` = taken from the shell's environment. */
  readonly environment: Readonly<Record<string, string | null>>;
  readonly ports: readonly PortMapping[];
  readonly volumes: readonly VolumeMount[];
  readonly dependsOn: Readonly<Record<string, Dependency>>;
  readonly healthcheck: Healthcheck | undefined;
  /** `scale`, else `deploy.replicas`, else 1. */
  readonly replicas: number;
  readonly init: boolean;
  readonly stopGracePeriodMs: number | undefined;
  readonly networks: readonly string[];
  /** The service as interpolated and validated, for anything not lifted above. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A Compose file as Compose resolves it. */
export interface ComposeFile {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly volumes: Readonly<Record<string, unknown>>;
  readonly networks: Readonly<Record<string, unknown>>;
  /** What Compose would warn about: unset variables without a default, the obsolete `version`. */
  readonly warnings: readonly string[];
  /** The whole model, interpolated and validated. */
  readonly model: Readonly<Record<string, unknown>>;
}

/** Where the file is and what it sees. */
export interface ParseComposeOptions {
  /** Variables for interpolation: only these (no `.env` file, no process environment). */
  readonly env: ComposeEnvironment;
  /** The file's name, for messages. Default `docker-compose.yml`. */
  readonly fileName?: string;
  /** The project folder, for `env_file` paths; when absent they are not checked. */
  readonly workingDir?: string;
}

type Dict = Record<string, unknown>;

let validateSchema: ReturnType<Ajv2020['compile']> | undefined;

function schemaValidator(): ReturnType<Ajv2020['compile']> {
  // strict: false — the schema is compose-go's, written for its Go validator; Ajv's strict mode
  // lints schema style (union types, `additionalProperties` without `type`), not the file checked.
  validateSchema ??= new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  return validateSchema;
}

const isDict = (value: unknown): value is Dict => value !== null && typeof value === 'object' && !Array.isArray(value);

function dictAt(value: unknown): Dict {
  return isDict(value) ? value : {};
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`45s`, `1m30s`, `1.5h`, `0`), as Compose parses them, in ms. */
export function parseGoDurationMs(text: string): number {
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new Error(`"${text}" is not a duration (e.g. 30s, 1m30s)`);
  return parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * (DURATION_UNITS_MS[unit as string] as number), 0);
}

function isFilePath(source: string): boolean {
  return /^[./~]/.test(source) || source.startsWith('\\\\') || /^[a-z]:/i.test(source);
}

/** compose-go's `format.ParseVolume` for `source:target[:options]`, `target` alone. */
function parseShortVolume(spec: string): VolumeMount {
  const parts: string[] = [];
  let buffer = '';
  for (const char of spec) {
    // A Windows drive's colon (`C:\data`) is not a separator.
    if (char === ':' && !/^[a-z]$/i.test(buffer)) {
      parts.push(buffer);
      buffer = '';
    } else {
      buffer += char;
    }
  }
  parts.push(buffer);
  if (spec === '' || parts.some((part) => part === '') || parts.length > 3) throw new Error(`invalid volume spec "${spec}"`);
  if (parts.length === 1) return { type: 'volume', source: undefined, target: spec, readOnly: false };
  const [source, target, options = ''] = parts as [string, string, string?];
  return { type: isFilePath(source) ? 'bind' : 'volume', source, target, readOnly: options.split(',').includes('ro') };
}

function portNumber(text: string, spec: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65_535) throw new Error(`invalid port "${text}" in "${spec}"`);
  return port;
}

function portRange(text: string, spec: string): number[] {
  const [low, high = low] = text.split('-') as [string, string?];
  const from = portNumber(low, spec);
  const to = portNumber(high, spec);
  if (to < from) throw new Error(`invalid port range "${text}" in "${spec}"`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The short port syntax `[[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]`, ranges expanded as Compose does. */
function parseShortPort(spec: string): PortMapping[] {
  const [address, protocol = 'tcp'] = spec.split('/') as [string, string?];
  let hostIp: string | undefined;
  let rest = address;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(address);
  if (bracketed !== null) {
    hostIp = bracketed[1];
    rest = bracketed[2] as string;
  } else {
    const parts = address.split(':');
    if (parts.length > 2) {
      hostIp = parts.slice(0, -2).join(':');
      rest = parts.slice(-2).join(':');
    }
  }
  const [first, second] = rest.split(':') as [string, string?];
  const published = second === undefined ? undefined : first;
  const targets = portRange(second ?? first, spec);
  const publishedPorts = published === undefined || published === '' ? undefined : portRange(published, spec);
  if (publishedPorts !== undefined && publishedPorts.length !== targets.length && targets.length !== 1) {
    throw new Error(`published and target port ranges differ in length in "${spec}"`);
  }
  return targets.map((target, i) => ({
    target,
    published:
      publishedPorts === undefined ? undefined : targets.length === 1 ? (published as string) : String(publishedPorts[i] as number),
    hostIp: hostIp === '' ? undefined : hostIp,
    protocol,
  }));
}

function environmentOf(value: unknown): Record<string, string | null> {
  const entries = Array.isArray(value)
    ? value.map((item: string) => {
        const at = item.indexOf('=');
        return at === -1 ? [item, null] : [item.slice(0, at), item.slice(at + 1)];
      })
    : Object.entries(dictAt(value)).map(([key, item]) => [key, item === null ? null : String(item)]);
  return Object.fromEntries(entries) as Record<string, string | null>;
}

function dependsOnOf(value: unknown): Record<string, Dependency> {
  if (Array.isArray(value)) {
    return Object.fromEntries(value.map((name: string) => [name, { condition: 'service_started', required: true, restart: false }]));
  }
  return Object.fromEntries(
    Object.entries(dictAt(value)).map(([name, item]) => {
      const entry = dictAt(item);
      return [
        name,
        {
          condition: entry['condition'] as Dependency['condition'],
          required: entry['required'] !== false,
          restart: entry['restart'] === true,
        },
      ];
    }),
  );
}

function durationAt(value: unknown, path: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseGoDurationMs(String(value));
  } catch (error) {
    problems.push(`${path}: ${(error as Error).message}`);
    return undefined;
  }
}

function healthcheckOf(value: unknown, path: string, problems: string[]): Healthcheck | undefined {
  if (!isDict(value)) return undefined;
  const rawTest = value['test'];
  const test = value['disable'] === true ? ['NONE'] : typeof rawTest === 'string' ? ['CMD-SHELL', rawTest] : ((rawTest as string[] | undefined) ?? []);
  return {
    test,
    intervalMs: durationAt(value['interval'], `${path}.interval`, problems),
    timeoutMs: durationAt(value['timeout'], `${path}.timeout`, problems),
    retries: value['retries'] as number | undefined,
  };
}

function serviceOf(name: string, raw: Dict, problems: string[]): ComposeService {
  const at = `services.${name}`;
  const build = raw['build'];
  const ports = ((raw['ports'] as unknown[] | undefined) ?? []).flatMap((port, i): PortMapping[] => {
    try {
      if (isDict(port)) {
        return [
          {
            target: typeof port['target'] === 'string' ? portNumber(port['target'], JSON.stringify(port)) : (port['target'] as number),
            published: port['published'] === undefined ? undefined : String(port['published']),
            hostIp: port['host_ip'] as string | undefined,
            protocol: (port['protocol'] as string | undefined) ?? 'tcp',
          },
        ];
      }
      return parseShortPort(String(port));
    } catch (error) {
      problems.push(`${at}.ports[${i}]: ${(error as Error).message}`);
      return [];
    }
  });
  const volumes = ((raw['volumes'] as unknown[] | undefined) ?? []).flatMap((volume, i): VolumeMount[] => {
    try {
      if (isDict(volume)) {
        return [
          {
            type: volume['type'] as string,
            source: volume['source'] as string | undefined,
            target: volume['target'] as string,
            readOnly: volume['read_only'] === true,
          },
        ];
      }
      return [parseShortVolume(volume as string)];
    } catch (error) {
      problems.push(`${at}.volumes[${i}]: ${(error as Error).message}`);
      return [];
    }
  });
  const deploy = dictAt(raw['deploy']);
  const scale = raw['scale'] as number | undefined;
  const deployReplicas = deploy['replicas'] as number | undefined;
  if (scale !== undefined && deployReplicas !== undefined && scale !== deployReplicas) {
    problems.push(`${at}: can't set distinct values on 'scale' and 'deploy.replicas'`);
  }
  const replicas = scale ?? deployReplicas ?? 1;
  if (replicas < 0) problems.push(`${at}.deploy.replicas: must be greater than or equal to 0`);
  const networks = raw['networks'];
  return {
    name,
    image: raw['image'] as string | undefined,
    build:
      build === undefined
        ? undefined
        : typeof build === 'string'
          ? { context: build, dockerfile: 'Dockerfile' }
          : {
              context: (dictAt(build)['context'] as string | undefined) ?? '.',
              dockerfile: (dictAt(build)['dockerfile'] as string | undefined) ?? 'Dockerfile',
            },
    command: raw['command'] as readonly string[] | string | undefined,
    environment: environmentOf(raw['environment']),
    ports,
    volumes,
    dependsOn: dependsOnOf(raw['depends_on']),
    healthcheck: healthcheckOf(raw['healthcheck'], `${at}.healthcheck`, problems),
    replicas,
    init: raw['init'] === true,
    stopGracePeriodMs: durationAt(raw['stop_grace_period'], `${at}.stop_grace_period`, problems),
    networks: Array.isArray(networks) ? (networks as string[]) : Object.keys(dictAt(networks)),
    raw,
  };
}

/** compose-go's `checkConsistency`, over the long forms, plus a `service_healthy` target's healthcheck. */
function checkConsistency(model: Dict, services: Record<string, ComposeService>, options: ParseComposeOptions, problems: string[]): void {
  const defined = (kind: string): Dict => dictAt(model[kind]);
  const networks = { default: {}, ...defined('networks') };
  for (const service of Object.values(services)) {
    const at = `services.${service.name}`;
    if (service.image === undefined && service.build === undefined && service.raw['provider'] === undefined) {
      problems.push(`${at}: has neither an image nor a build context specified`);
    }
    if (service.raw['network_mode'] !== undefined && service.networks.length > 0) {
      problems.push(`${at}: declares mutually exclusive \`network_mode\` and \`networks\``);
    }
    for (const network of service.networks) {
      if (!(network in networks)) problems.push(`${at}.networks: refers to undefined network ${network}`);
    }
    const networkMode = service.raw['network_mode'];
    if (typeof networkMode === 'string' && networkMode.startsWith('service:') && !(networkMode.slice(8) in services)) {
      problems.push(`${at}.network_mode: service "${networkMode.slice(8)}" not found`);
    }
    const test = service.healthcheck?.test[0];
    if (test !== undefined && !['CMD', 'CMD-SHELL', 'NONE'].includes(test)) {
      problems.push(`${at}.healthcheck.test: must start either by "CMD", "CMD-SHELL" or "NONE", not "${test}"`);
    }
    for (const [name, dependency] of Object.entries(service.dependsOn)) {
      const target = services[name];
      if (target === undefined) {
        if (dependency.required) problems.push(`${at}.depends_on: depends on undefined service "${name}"`);
      } else if (dependency.condition === 'service_healthy' && (target.healthcheck === undefined || target.healthcheck.test[0] === 'NONE')) {
        // `config` accepts this; `up` fails with "container … has no healthcheck configured".
        problems.push(`${at}.depends_on.${name}: condition service_healthy, but "${name}" has no healthcheck`);
      }
    }
    const mounts = new Map<string, string>();
    for (const [i, tmpfs] of (typeof service.raw['tmpfs'] === 'string' ? [service.raw['tmpfs']] : ((service.raw['tmpfs'] as string[] | undefined) ?? [])).entries()) {
      mounts.set(tmpfs.split(':')[0] as string, `${at}.tmpfs[${i}]`);
    }
    for (const [i, volume] of service.volumes.entries()) {
      if (volume.type === 'volume' && volume.source !== undefined && !(volume.source in defined('volumes'))) {
        problems.push(`${at}.volumes[${i}]: refers to undefined volume ${volume.source}`);
      }
      const earlier = mounts.get(volume.target);
      if (earlier !== undefined) problems.push(`${at}.volumes[${i}]: target ${volume.target} already mounted as ${earlier}`);
      mounts.set(volume.target, `${at}.volumes[${i}]`);
    }
    for (const kind of ['secrets', 'configs'] as const) {
      for (const reference of (service.raw[kind] as unknown[] | undefined) ?? []) {
        const source = typeof reference === 'string' ? reference : (dictAt(reference)['source'] as string);
        if (!(source in defined(kind))) problems.push(`${at}.${kind}: refers to undefined ${kind.slice(0, -1)} ${source}`);
      }
    }
    if (service.replicas > 1 && service.raw['container_name'] !== undefined) {
      problems.push(`${at}: can't set container_name and ${service.replicas} replicas, as container names must be unique`);
    }
    if (options.workingDir !== undefined) {
      const envFiles = service.raw['env_file'];
      for (const file of typeof envFiles === 'string' ? [envFiles] : ((envFiles as unknown[] | undefined) ?? [])) {
        const path = typeof file === 'string' ? file : (dictAt(file)['path'] as string);
        const required = typeof file === 'string' || dictAt(file)['required'] !== false;
        if (required && !existsSync(resolve(options.workingDir, path))) problems.push(`${at}.env_file: ${path} not found`);
      }
    }
  }
  for (const [name, secret] of Object.entries(defined('secrets'))) {
    const entry = dictAt(secret);
    if (entry['external'] !== true && entry['file'] === undefined && entry['environment'] === undefined) {
      problems.push(`secrets.${name}: must declare either \`file\` or \`environment\``);
    }
  }
  // compose-go's graph.CheckCycle: a dependency cycle never starts.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done' || services[name] === undefined) return;
    if (state.get(name) === 'visiting') {
      problems.push(`depends_on: dependency cycle ${[...trail.slice(trail.indexOf(name)), name].join(' -> ')}`);
      return;
    }
    state.set(name, 'visiting');
    for (const next of Object.keys(services[name]?.dependsOn ?? {})) visit(next, [...trail, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(services)) visit(name, []);
}

function schemaProblems(errors: readonly ErrorObject[]): string[] {
  const lines = errors.map((error) => {
    const path = error.instancePath === '' ? '(top level)' : error.instancePath.slice(1).replaceAll('/', '.');
    const extra = error.keyword === 'additionalProperties' ? ` ("${String(error.params['additionalProperty'])}")` : '';
    return `${path}: ${error.message ?? error.keyword}${extra}`;
  });
  return [...new Set(lines)];
}

/**
 * Parses, interpolates, validates and resolves a Compose file's text.
 *
 * @throws ComposeFileError listing every problem Compose would refuse the file for
 */
export function parseComposeFile(text: string, options: ParseComposeOptions): ComposeFile {
  const fileName = options.fileName ?? 'docker-compose.yml';
  const document = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) throw new ComposeFileError(fileName, document.errors.map((error) => error.message.split('\n')[0] as string));
  const parsed: unknown = document.toJS({ maxAliasCount: 1000 });
  if (!isDict(parsed)) throw new ComposeFileError(fileName, ['(top level): must be a mapping']);

  let interpolated;
  try {
    interpolated = interpolateModel(parsed, options.env);
  } catch (error) {
    throw new ComposeFileError(fileName, [(error as Error).message]);
  }
  const model = interpolated.model;
  const warnings = interpolated.unsetVariables.map((use) => `variable not set, defaulting to a blank string: ${use}`);

  const validate = schemaValidator();
  if (!validate(model)) throw new ComposeFileError(fileName, schemaProblems(validate.errors ?? []));
  if ('version' in model) warnings.push('the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion');

  const problems: string[] = [];
  const services = Object.fromEntries(Object.entries(dictAt(model['services'])).map(([name, raw]) => [name, serviceOf(name, dictAt(raw), problems)]));
  checkConsistency(model, services, options, problems);
  if (problems.length > 0) throw new ComposeFileError(fileName, problems);

  return { services, volumes: dictAt(model['volumes']), networks: dictAt(model['networks']), warnings, model };
}

/**
 * Reads and resolves a Compose file; `env_file` paths are checked against its folder.
 *
 * @throws ComposeFileError listing every problem Compose would refuse the file for
 */
export function loadComposeFile(path: string, env: ComposeEnvironment): ComposeFile {
  return parseComposeFile(readFileSync(path, 'utf8'), { env, fileName: path, workingDir: dirname(path) });
}
