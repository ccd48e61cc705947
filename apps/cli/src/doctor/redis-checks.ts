import { Queue } from 'bullmq';
import { checkClientListUsable, MONITOR_QUEUE, MonitorStateStore } from '@kai-jobs/monitor';
import { bullPrefix, JOB_TYPES, jobCatalog, toError, type RedisClient } from '@kai-jobs/queue';
import { formatDuration } from '../output/format.js';
import { check, CheckStatus, type CheckResult } from './check-types.js';

const START_WORKER = 'start one: "kai-jobs worker", "pnpm start", or "docker compose up -d worker"';
const START_MONITOR = 'start one: "kai-jobs monitor", "pnpm start", or "docker compose up -d monitor"';

async function configValue(redis: RedisClient, name: string): Promise<string> {
  const reply = (await redis.call('CONFIG', 'GET', name)) as string[];
  return reply[1] ?? '';
}

/** `maxmemory-policy` must be `noeviction`: an evicting Redis silently drops job and lock keys. */
export async function checkEvictionPolicy(redis: RedisClient): Promise<CheckResult> {
  try {
    const policy = await configValue(redis, 'maxmemory-policy');
    if (policy === 'noeviction') return check('maxmemory-policy', CheckStatus.Ok, 'noeviction');
    return check(
      'maxmemory-policy',
      CheckStatus.Warn,
      `${policy}: under memory pressure Redis may evict job, lock and status keys`,
      'set "maxmemory-policy noeviction" (redis.conf, or CONFIG SET maxmemory-policy noeviction; docker-compose.yml does it)',
    );
  } catch (error) {
    return check('maxmemory-policy', CheckStatus.Warn, `could not read it (${toError(error).message})`, 'make sure the Redis provider is set to noeviction');
  }
}

/** Persistence on (AOF or RDB snapshots), or a Redis restart loses every job. */
export async function checkPersistence(redis: RedisClient): Promise<CheckResult> {
  try {
    const [appendonly, save] = await Promise.all([configValue(redis, 'appendonly'), configValue(redis, 'save')]);
    if (appendonly === 'yes') {
      const fsync = await configValue(redis, 'appendfsync');
      return check('persistence', CheckStatus.Ok, `AOF on (appendfsync ${fsync})${save.trim() === '' ? '' : `, RDB snapshots "${save}"`}`);
    }
    if (save.trim() !== '') {
      return check('persistence', CheckStatus.Ok, `RDB snapshots ("${save}"); AOF off`, null);
    }
    return check(
      'persistence',
      CheckStatus.Warn,
      'off (no AOF, no RDB snapshots): a Redis restart loses every queued job and status row',
      'turn on AOF: "appendonly yes" and "appendfsync everysec" (docker-compose.yml does it)',
    );
  } catch (error) {
    return check('persistence', CheckStatus.Warn, `could not read it (${toError(error).message})`, 'make sure the Redis provider persists data (AOF or snapshots)');
  }
}

/** One line per queue: BullMQ workers connected to it (`Queue.getWorkers()`, from CLIENT LIST). */
export async function checkWorkers(redis: RedisClient, prefix: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const type of JOB_TYPES) {
    const { queueName } = jobCatalog[type];
    const name = `workers:${queueName}`;
    const queue = new Queue(queueName, { connection: redis, prefix: bullPrefix(prefix, queueName) });
    try {
      const [workers, counts] = await Promise.all([queue.getWorkers(), queue.getJobCounts('wait', 'prioritized', 'active')]);
      const waiting = (counts['wait'] ?? 0) + (counts['prioritized'] ?? 0);
      if (workers.length > 0) {
        results.push(check(name, CheckStatus.Ok, `${workers.length} worker connection${workers.length === 1 ? '' : 's'} online; ${waiting} waiting, ${counts['active'] ?? 0} active`));
      } else if (waiting > 0) {
        results.push(check(name, CheckStatus.Fail, `no worker online and ${waiting} job${waiting === 1 ? '' : 's'} waiting`, START_WORKER));
      } else {
        results.push(check(name, CheckStatus.Warn, 'no worker online (nothing waiting yet)', START_WORKER));
      }
    } catch (error) {
      results.push(check(name, CheckStatus.Warn, `could not list the workers (${toError(error).message})`, 'CLIENT LIST may be disabled by the Redis provider; check the workers\' logs'));
    } finally {
      await queue.close();
    }
  }
  return results;
}

/** The monitor's last tick: failed when it is older than 3 check intervals (or never ran). */
export async function checkMonitor(redis: RedisClient, prefix: string, storeNow: number): Promise<CheckResult> {
  const state = new MonitorStateStore({ connection: redis, prefix });
  const last = await state.lastTick();
  if (last === null) return check('monitor', CheckStatus.Fail, 'the monitor has never ticked', START_MONITOR);
  const ageMs = Math.max(0, storeNow - last.storeNow);
  const summary = `last tick ${formatDuration(ageMs)} ago by ${last.monitorId} (interval ${formatDuration(last.intervalMs)})`;
  if (ageMs > 3 * last.intervalMs) {
    const queue = new Queue(MONITOR_QUEUE, { connection: redis, prefix: bullPrefix(prefix, MONITOR_QUEUE) });
    const workers = await queue.getWorkers().catch(() => []);
    await queue.close();
    return check(
      'monitor',
      CheckStatus.Fail,
      `${summary}: more than 3 intervals — ${workers.length === 0 ? 'no monitor is running' : 'the monitor runs but does not tick'}`,
      workers.length === 0 ? START_MONITOR : 'read the monitor\'s logs ("monitor tick failed"); restart it',
    );
  }
  if (last.error !== null) return check('monitor', CheckStatus.Warn, `${summary}, but it failed: ${last.error}`, 'read the monitor\'s logs; the next tick retries');
  return check('monitor', CheckStatus.Ok, `${summary}; ${last.candidates} candidates, ${last.restarted} restarted, ${last.failed} failed`);
}

/**
 * Fast failover needs Redis's client list with client names (the watcher sees a crashed
 * worker's named connection vanish). A proxy that hides them makes it blind: then say to set
 * FAILOVER_ENABLED=false and rely on BullMQ's locks.
 */
export async function checkFailover(redis: RedisClient): Promise<CheckResult> {
  const { usable, detail } = await checkClientListUsable(redis);
  if (usable) return check('failover', CheckStatus.Ok, `the client list shows connection names: ${detail}`);
  return check(
    'failover',
    CheckStatus.Warn,
    detail,
    'fast failover cannot see workers die here: set FAILOVER_ENABLED=false (crashed workers then wait for their BullMQ lock)',
  );
}
