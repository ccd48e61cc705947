import { closeRedis, ConnectionRole, createRedisConnection, maskRedisUrl, createJobStore, toError, waitForRedis } from '@kai-jobs/queue';
import type { Environment } from '../config/cli-env.js';
import type { CliEnvConfig } from '../config/cli-env.js';
import { check, CheckStatus, type CheckResult } from './check-types.js';
import { checkEvictionPolicy, checkFailover, checkMonitor, checkPersistence, checkWorkers } from './redis-checks.js';
import { checkProviders } from './provider-checks.js';
import { checkSentry, checkSupabase } from './service-checks.js';

const REDIS_DEPENDENT = ['maxmemory-policy', 'persistence', 'workers', 'monitor', 'failover'];

/** What {@link runDoctor} found. */
export interface DoctorReport {
  checks: CheckResult[];
  /** False when any check failed. */
  ok: boolean;
  counts: Record<CheckStatus, number>;
}

/** Runs every check, one result each, in a stable order; never throws for a failed check. */
export async function runDoctor(config: CliEnvConfig, env: Environment): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  const url = maskRedisUrl(config.redis.url);
  const redis = createRedisConnection(config.redis, { role: ConnectionRole.Producer, connectionName: 'kai-doctor' });
  redis.on('error', () => undefined);
  try {
    await waitForRedis(redis, config.redis.url, config.redis.connectTimeoutMs);
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown version';
    checks.push(check('redis', CheckStatus.Ok, `reachable at ${url} (Redis ${version}, prefix "${config.redis.prefix}")`));
    checks.push(await checkEvictionPolicy(redis));
    checks.push(await checkPersistence(redis));
    checks.push(...(await checkWorkers(redis, config.redis.prefix)));
    const storeNow = await createJobStore({ kind: 'redis', connection: redis, prefix: config.redis.prefix }).now();
    checks.push(await checkMonitor(redis, config.redis.prefix, storeNow));
    checks.push(await checkFailover(redis));
  } catch (error) {
    if (checks.length === 0) {
      checks.push(
        check('redis', CheckStatus.Fail, `unreachable at ${url}: ${toError(error).message}`, 'start Redis ("docker compose up -d redis" or a local "redis-server") or set REDIS_URL'),
        ...REDIS_DEPENDENT.map((name) => check(name, CheckStatus.Warn, 'not checked: Redis is unreachable', null)),
      );
    } else {
      checks.push(check('redis', CheckStatus.Fail, `a Redis check failed midway: ${toError(error).message}`, 'run doctor again; check the Redis logs'));
    }
  } finally {
    await closeRedis(redis);
  }
  checks.push(await checkSentry(env));
  checks.push(await checkSupabase(config.stores));
  checks.push(...(await checkProviders(env)));
  const counts = { ok: 0, warn: 0, fail: 0 } as Record<CheckStatus, number>;
  for (const result of checks) counts[result.status] += 1;
  return { checks, ok: counts.fail === 0, counts };
}
