import { jobCatalog } from '@kai-jobs/queue';
import { describe, expect, it } from 'vitest';
import { boardOptionsFromEnv, parseBoardOptions, parseStartBoardOptions, resolveThresholds } from '../src/index.js';

function configError(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    expect((error as Error).name).toBe('ConfigError');
    return error as Error & { code?: string };
  }
  throw new Error('expected a ConfigError');
}

describe('board options', () => {
  it('refuses to start without credentials, naming the variables to set', () => {
    const error = configError(() => parseBoardOptions({}));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toMatch(/refuses to start without credentials/);
    for (const variable of ['BOARD_USERNAME', 'BOARD_PASSWORD', 'BOARD_TOKEN', 'BOARD_AUTH=off']) {
      expect(error.message).toContain(variable);
    }
  });

  it('refuses half a basic-auth pair', () => {
    expect(configError(() => parseBoardOptions({ auth: { username: 'u' } })).message).toMatch(
      /needs both BOARD_USERNAME and BOARD_PASSWORD, but only BOARD_USERNAME/,
    );
    expect(configError(() => parseBoardOptions({ auth: { password: 'p', token: 't' } })).message).toMatch(/only BOARD_PASSWORD/);
  });

  it('allows auth off only on a loopback address', () => {
    expect(parseBoardOptions({ auth: { mode: 'off' } }).auth.mode).toBe('off');
    expect(parseBoardOptions({ auth: { mode: 'off' }, host: 'localhost' }).host).toBe('localhost');
    expect(parseBoardOptions({ auth: { mode: 'off' }, host: '::1' }).host).toBe('::1');
    for (const host of ['0.0.0.0', '::', '192.168.1.5', 'board.internal']) {
      const error = configError(() => parseStartBoardOptions({ auth: { mode: 'off' }, host }));
      expect(error.message).toContain('BOARD_AUTH=off is only allowed when the board is bound to a loopback address');
      expect(error.message).toContain(host);
    }
  });

  it('applies defaults and lists every bad field in one error', () => {
    const options = parseStartBoardOptions({ auth: { token: 't' } });
    expect(options).toMatchObject({ port: 3000, host: '127.0.0.1', readOnly: false, basePath: '', trustProxy: false });
    expect(options.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', prefix: 'kai' });
    expect(options.auth).toMatchObject({ mode: 'on', maxFailures: 10, failureRefillMs: 6000 });
    expect(options.monitoring).toMatchObject({ windowMs: 86_400_000, bucketMs: 3_600_000, refreshIntervalMs: 15_000 });
    expect(parseBoardOptions({ auth: { token: 't' }, basePath: '/ops/' }).basePath).toBe('/ops');
    const error = configError(() =>
      parseStartBoardOptions({ auth: { token: 't' }, port: 70_000, basePath: 'no-slash', monitoring: { bucketMs: 90_000 } }),
    );
    expect(error.message).toMatch(/port:/);
    expect(error.message).toMatch(/basePath:/);
    expect(error.message).toMatch(/monitoring\.bucketMs: expected a multiple of 60000/);
    expect(configError(() => parseBoardOptions({ auth: { token: 't' }, redis: { url: 'http://x' } })).message).toMatch(/scheme "http"/);
  });

  it('resolves thresholds over the catalog defaults', () => {
    const thresholds = resolveThresholds({ pdf: { updateTimeoutMs: 1000 }, scrape: { heartbeatTimeoutMs: 5000 } });
    expect(thresholds.pdf).toEqual({ heartbeatTimeoutMs: jobCatalog.pdf.defaults.heartbeatTimeoutMs, updateTimeoutMs: 1000 });
    expect(thresholds.scrape).toEqual({ heartbeatTimeoutMs: 5000, updateTimeoutMs: jobCatalog.scrape.defaults.updateTimeoutMs });
    expect(thresholds['xml-import']).toEqual({ heartbeatTimeoutMs: null, updateTimeoutMs: jobCatalog['xml-import'].defaults.updateTimeoutMs });
  });
});

describe('boardOptionsFromEnv', () => {
  it('maps every variable', () => {
    const { options, statusStore } = boardOptionsFromEnv({
      REDIS_URL: 'redis://cache:6380/1',
      KAI_PREFIX: 'prod',
      BOARD_HOST: '0.0.0.0',
      BOARD_PORT: '8080',
      BOARD_USERNAME: 'ops',
      BOARD_PASSWORD: ' spaced secret ',
      BOARD_TOKEN: 'tkn',
      BOARD_AUTH: 'on',
      BOARD_READ_ONLY: 'true',
      BOARD_BASE_PATH: '/ops',
      BOARD_TRUST_PROXY: '1',
    });
    expect(options).toEqual({
      redis: { url: 'redis://cache:6380/1', prefix: 'prod' },
      host: '0.0.0.0',
      port: 8080,
      auth: { mode: 'on', username: 'ops', password: ' spaced secret ', token: 'tkn' },
      readOnly: true,
      basePath: '/ops',
      trustProxy: 1,
    });
    expect(statusStore).toEqual({ kind: 'redis' });
    expect(parseStartBoardOptions(options).port).toBe(8080);
  });

  it('reads KAI_RETENTION_* into the enqueue API\'s BullMQ retention and the store\'s, naming a bad value', () => {
    const { options } = boardOptionsFromEnv({ KAI_RETENTION_BULLMQ_COMPLETED: '2h', KAI_RETENTION_BULLMQ_FAILED: '3d', KAI_RETENTION_FINISHED: '12h' });
    expect(options.finishedJobs).toEqual({ completedMs: 2 * 3_600_000, failedMs: 3 * 86_400_000 });
    expect(options.storeRetention).toEqual({ finishedRetentionMs: 12 * 3_600_000 });
    expect(parseBoardOptions({ ...options, auth: { token: 'tkn' } }).finishedJobs).toEqual({ completedMs: 7_200_000, failedMs: 259_200_000 });
    expect(boardOptionsFromEnv({}).options.finishedJobs).toBeUndefined();
    expect(() => boardOptionsFromEnv({ KAI_RETENTION_BULLMQ_COMPLETED: 'soon' })).toThrow(/KAI_RETENTION_BULLMQ_COMPLETED/);
  });

  it('reads REDIS_CLUSTER_NODES into the Redis options', () => {
    const { options } = boardOptionsFromEnv({ REDIS_URL: 'redis://10.0.0.5:6379', REDIS_CLUSTER_NODES: '10.0.0.5:6379,10.0.0.6:6379' });
    expect(options.redis).toEqual({ url: 'redis://10.0.0.5:6379', clusterNodes: ['10.0.0.5:6379', '10.0.0.6:6379'] });
    expect(() => boardOptionsFromEnv({ REDIS_CLUSTER_NODES: '10.0.0.5' })).toThrow(/REDIS_CLUSTER_NODES: "10.0.0.5" is not host:port/);
  });

  it('leaves unset and empty variables to the defaults', () => {
    const { options } = boardOptionsFromEnv({ BOARD_USERNAME: '', BOARD_READ_ONLY: '' });
    expect(options).toEqual({ redis: {}, auth: {} });
    expect(boardOptionsFromEnv({ BOARD_READ_ONLY: 'false', BOARD_TRUST_PROXY: 'false' }).options).toMatchObject({ readOnly: false, trustProxy: false });
  });

  it('BOARD_TRUST_PROXY: a hop count or proxy addresses; true is refused, saying why and what to set', () => {
    expect(boardOptionsFromEnv({ BOARD_TRUST_PROXY: '2' }).options.trustProxy).toBe(2);
    expect(boardOptionsFromEnv({ BOARD_TRUST_PROXY: ' 10.0.0.5, 10.1.0.0/16 ,fd00::/8,loopback' }).options.trustProxy).toEqual([
      '10.0.0.5',
      '10.1.0.0/16',
      'fd00::/8',
      'loopback',
    ]);
    for (const value of ['true', 'TRUE', 'yes', 'on']) {
      const error = configError(() => boardOptionsFromEnv({ BOARD_TRUST_PROXY: value }));
      expect(error.message).toMatch(/BOARD_TRUST_PROXY=true is refused/);
      expect(error.message).toMatch(/left-most one is written by the client/);
      expect(error.message).toMatch(/BOARD_TRUST_PROXY=1 behind one reverse proxy/);
    }
    for (const value of ['0.0.0.0/0', '::/0', '10.0.0.0/33', 'proxy.internal', '10.0.0.5,', '11']) {
      expect(() => boardOptionsFromEnv({ BOARD_TRUST_PROXY: value }), value).toThrow(/BOARD_TRUST_PROXY/);
    }
    // The options refuse `true` too, for callers that skip the environment.
    expect(configError(() => parseBoardOptions({ auth: { token: 't' }, trustProxy: true })).message).toMatch(/trustProxy: BOARD_TRUST_PROXY=true is refused/);
    expect(configError(() => parseBoardOptions({ auth: { token: 't' }, trustProxy: ['10.0.0.0/0'] })).message).toMatch(/trustProxy\.0: expected an IP address/);
    expect(parseBoardOptions({ auth: { token: 't' }, trustProxy: ['127.0.0.1', '::1'] }).trustProxy).toEqual(['127.0.0.1', '::1']);
  });

  it('names the variable of a malformed value', () => {
    expect(() => boardOptionsFromEnv({ BOARD_PORT: '30x0' })).toThrow(/BOARD_PORT="30x0" is not valid/);
    expect(() => boardOptionsFromEnv({ BOARD_PORT: '70000' })).toThrow(/BOARD_PORT/);
    expect(() => boardOptionsFromEnv({ BOARD_READ_ONLY: 'maybe' })).toThrow(/BOARD_READ_ONLY="maybe" is not a boolean/);
    expect(() => boardOptionsFromEnv({ BOARD_AUTH: 'disabled' })).toThrow(/BOARD_AUTH="disabled" is not valid; expected on or off/);
    expect(() => boardOptionsFromEnv({ STATUS_STORE: 'postgres' })).toThrow(/STATUS_STORE/);
    expect(() => boardOptionsFromEnv({ STATUS_STORE: 'supabase' })).toThrow(/SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY/);
  });

  it('picks the Supabase status store when asked', () => {
    const { statusStore } = boardOptionsFromEnv({
      STATUS_STORE: 'supabase',
      SUPABASE_URL: 'https://ref.supabase.co',
      SUPABASE_SERVICE_ROLE_KEY: 'service-key',
    });
    expect(statusStore).toEqual({ kind: 'supabase', options: { url: 'https://ref.supabase.co', serviceRoleKey: 'service-key' } });
  });
});
