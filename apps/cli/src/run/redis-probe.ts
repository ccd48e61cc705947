import { closeRedis, ConnectionRole, createRedisConnection, maskRedisUrl, toError, waitForRedis, type RedisConnectionOptions } from '@kai-jobs/queue';
import { CommandFailedError } from '../cli/errors.js';

/**
 * Fails with a message a newcomer can act on when Redis does not answer: the URL tried and
 * the two ways to get a Redis — before anything else is started.
 */
export async function requireRedis(options: RedisConnectionOptions, command: string): Promise<void> {
  const redis = createRedisConnection(options, { role: ConnectionRole.Producer, connectionName: 'kai-probe' });
  redis.on('error', () => undefined);
  try {
    await waitForRedis(redis, options.url, options.connectTimeoutMs);
  } catch (error) {
    const detail = toError(error).message.replace(/^Redis at \S+ is unreachable: /, '');
    throw new CommandFailedError(
      [
        `no Redis answers at ${maskRedisUrl(options.url)} (${detail}).`,
        'kai-jobs needs a Redis 7. Get one, then run this again:',
        '  docker compose up -d redis     # from this repository: Redis with AOF on 127.0.0.1:6379',
        '  redis-server                   # or a local Redis (apt install redis-server, brew install redis)',
        `or point REDIS_URL at the Redis you have (e.g. REDIS_URL=redis://host:6379 ${command}).`,
      ].join('\n'),
      { cause: error },
    );
  } finally {
    await closeRedis(redis);
  }
}
