import { ConfigError, finishedBullJobsOptions, parseClusterNodes, parseRetentionEnv, storeRetentionOptions, type SupabaseJobStoreOptions } from '@kai-jobs/queue';
import { isProxyAddress, TRUST_PROXY_TRUE_REFUSED, type StartBoardOptionsInput } from './config.js';

/** The environment as the entry point sees it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Which status store the environment asks for (`STATUS_STORE`). */
export type StatusStoreChoice = { kind: 'redis' } | { kind: 'supabase'; options: SupabaseJobStoreOptions };

/** What {@link boardOptionsFromEnv} reads. */
export interface BoardEnvConfig {
  options: StartBoardOptionsInput;
  statusStore: StatusStoreChoice;
}

/** Every variable the board reads, with its default, for the README and `--help`. */
export const BOARD_ENV_VARIABLES = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'KAI_PREFIX',
  'BOARD_HOST',
  'BOARD_PORT',
  'BOARD_USERNAME',
  'BOARD_PASSWORD',
  'BOARD_TOKEN',
  'BOARD_AUTH',
  'BOARD_READ_ONLY',
  'BOARD_BASE_PATH',
  'BOARD_TRUST_PROXY',
  'STATUS_STORE',
  'SUPABASE_URL',
  'SUPABASE_SERVICE_ROLE_KEY',
  // KAI_RETENTION_*: the store's rows and history, and BullMQ's copy of the jobs the enqueue API adds.
  'KAI_RETENTION_FINISHED',
  'KAI_RETENTION_CHECKPOINTS',
  'KAI_RETENTION_HISTORY_ENTRIES',
  'KAI_RETENTION_BULLMQ_COMPLETED',
  'KAI_RETENTION_BULLMQ_FAILED',
] as const;

function value(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function flag(env: Environment, name: string): boolean | undefined {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined) return undefined;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name}="${env[name]}" is not a boolean; expected true or false`);
}

function integer(env: Environment, name: string, min: number, max: number): number | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name}="${raw}" is not valid; expected a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

/**
 * `BOARD_TRUST_PROXY`: a hop count (`1` behind one reverse proxy), or a comma-separated list
 * of proxy addresses/CIDRs, or `false`. `true` is refused with {@link TRUST_PROXY_TRUE_REFUSED}.
 */
function trustProxyFromEnv(env: Environment): boolean | number | string[] | undefined {
  const raw = value(env, 'BOARD_TRUST_PROXY');
  if (raw === undefined) return undefined;
  if (/^\d+$/.test(raw)) return integer(env, 'BOARD_TRUST_PROXY', 0, 10);
  const lower = raw.toLowerCase();
  if (['false', 'no', 'off'].includes(lower)) return false;
  if (['true', 'yes', 'on'].includes(lower)) throw new ConfigError(TRUST_PROXY_TRUE_REFUSED);
  const entries = raw.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !isProxyAddress(entry)).map((entry) => (entry === '' ? 'an empty entry' : `"${entry}"`));
  if (bad.length > 0) {
    throw new ConfigError(
      `BOARD_TRUST_PROXY="${raw}" is not valid (${bad.join(', ')}): expected a hop count from 0 to 10 ` +
        'or a comma-separated list of proxy IP addresses or CIDRs (e.g. 10.0.0.5,10.1.0.0/16)',
    );
  }
  return entries;
}

/**
 * Reads the board's configuration from environment variables (see the README). Only the
 * entry point calls this with `process.env`; a malformed value throws `ConfigError`
 * naming the variable. Secrets are passed on, never logged.
 */
export function boardOptionsFromEnv(env: Environment): BoardEnvConfig {
  const options: StartBoardOptionsInput = { redis: {}, auth: {} };
  const redisUrl = value(env, 'REDIS_URL');
  const prefix = value(env, 'KAI_PREFIX');
  const clusterNodes = parseClusterNodes(env['REDIS_CLUSTER_NODES']);
  options.redis = {
    ...(redisUrl === undefined ? {} : { url: redisUrl }),
    ...(prefix === undefined ? {} : { prefix }),
    ...(clusterNodes.length === 0 ? {} : { clusterNodes }),
  };

  const host = value(env, 'BOARD_HOST');
  if (host !== undefined) options.host = host;
  const port = integer(env, 'BOARD_PORT', 0, 65_535);
  if (port !== undefined) options.port = port;

  const authMode = value(env, 'BOARD_AUTH')?.toLowerCase();
  if (authMode !== undefined && authMode !== 'on' && authMode !== 'off') {
    throw new ConfigError(`BOARD_AUTH="${env['BOARD_AUTH']}" is not valid; expected on or off`);
  }
  const username = env['BOARD_USERNAME'];
  const password = env['BOARD_PASSWORD'];
  const token = env['BOARD_TOKEN'];
  // Secrets are taken as given (a password may have spaces at its ends); empty means unset.
  options.auth = {
    ...(authMode === undefined ? {} : { mode: authMode }),
    ...(username === undefined || username === '' ? {} : { username }),
    ...(password === undefined || password === '' ? {} : { password }),
    ...(token === undefined || token === '' ? {} : { token }),
  };

  const readOnly = flag(env, 'BOARD_READ_ONLY');
  if (readOnly !== undefined) options.readOnly = readOnly;
  const basePath = value(env, 'BOARD_BASE_PATH');
  if (basePath !== undefined) options.basePath = basePath;
  const trustProxy = trustProxyFromEnv(env);
  if (trustProxy !== undefined) options.trustProxy = trustProxy;

  const { retention, problems } = parseRetentionEnv(env);
  if (problems.length > 0) throw new ConfigError(`invalid retention settings:\n  - ${problems.join('\n  - ')}`);
  const finishedJobs = finishedBullJobsOptions(retention);
  if (finishedJobs !== undefined) options.finishedJobs = finishedJobs;
  const storeRetention = storeRetentionOptions(retention);
  if (Object.keys(storeRetention).length > 0) options.storeRetention = storeRetention;

  const storeKind = value(env, 'STATUS_STORE')?.toLowerCase() ?? 'redis';
  if (storeKind === 'redis') return { options, statusStore: { kind: 'redis' } };
  if (storeKind !== 'supabase') {
    throw new ConfigError(`STATUS_STORE="${env['STATUS_STORE']}" is not valid; expected redis or supabase`);
  }
  const url = value(env, 'SUPABASE_URL');
  const serviceRoleKey = env['SUPABASE_SERVICE_ROLE_KEY'];
  if (url === undefined || serviceRoleKey === undefined || serviceRoleKey === '') {
    throw new ConfigError('STATUS_STORE=supabase needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY');
  }
  return { options, statusStore: { kind: 'supabase', options: { url, serviceRoleKey } } };
}
