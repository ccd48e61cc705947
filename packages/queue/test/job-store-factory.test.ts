import { describe, expect, it } from 'vitest';
import { createJobStore, parseStoreConfigFromEnv } from '../src/index.js';

function configError(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a ConfigError');
}

describe('parseStoreConfigFromEnv', () => {
  it('defaults to Redis', () => {
    expect(parseStoreConfigFromEnv({})).toEqual({ kind: 'redis' });
    expect(parseStoreConfigFromEnv({ STATUS_STORE: 'redis', SUPABASE_URL: 'ignored' })).toEqual({ kind: 'redis' });
    expect(parseStoreConfigFromEnv({ STATUS_STORE: '' })).toEqual({ kind: 'redis' });
  });

  it('reads the Supabase variables, with the schema defaulting to public', () => {
    expect(parseStoreConfigFromEnv({ STATUS_STORE: 'supabase', SUPABASE_URL: 'https://abc.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'key' })).toEqual({
      kind: 'supabase',
      url: 'https://abc.supabase.co',
      serviceRoleKey: 'key',
      schema: 'public',
    });
    expect(
      parseStoreConfigFromEnv({ STATUS_STORE: 'Supabase', SUPABASE_URL: 'http://127.0.0.1:54321', SUPABASE_SERVICE_ROLE_KEY: 'key', SUPABASE_SCHEMA: 'kai' }),
    ).toMatchObject({ kind: 'supabase', schema: 'kai' });
  });

  it('names the missing variable', () => {
    const error = configError(() => parseStoreConfigFromEnv({ STATUS_STORE: 'supabase', SUPABASE_SERVICE_ROLE_KEY: 'key' }));
    expect(error).toMatchObject({ name: 'ConfigError', code: 'CONFIG', retryable: false });
    expect(error.message).toBe('STATUS_STORE=supabase: SUPABASE_URL is not set (the project URL, https://<project-ref>.supabase.co)');
  });

  it('lists every problem at once, without echoing the key', () => {
    const error = configError(() =>
      parseStoreConfigFromEnv({ STATUS_STORE: 'supabase', SUPABASE_URL: 'abc.supabase.co', SUPABASE_SCHEMA: 'bad-name' }),
    );
    expect(error.message).toContain('SUPABASE_URL must be the http(s) URL of the project, got "abc.supabase.co"');
    expect(error.message).toContain('SUPABASE_SERVICE_ROLE_KEY is not set');
    expect(error.message).toContain('SUPABASE_SCHEMA must be a schema name');
  });

  it('refuses an unknown store', () => {
    expect(configError(() => parseStoreConfigFromEnv({ STATUS_STORE: 'postgres' })).message).toBe(
      'STATUS_STORE must be "redis" or "supabase", got "postgres"',
    );
  });
});

describe('createJobStore', () => {
  it('refuses an incomplete configuration with a ConfigError naming the field', () => {
    const missing = configError(() => createJobStore({ kind: 'redis' } as never));
    expect(missing).toMatchObject({ name: 'ConfigError' });
    expect(missing.message).toMatch(/connection: expected an ioredis connection/);
    const badUrl = configError(() => createJobStore({ kind: 'supabase', url: 'nope', serviceRoleKey: 'k' }));
    expect(badUrl.message).toMatch(/url: expected the http\(s\) URL of the Supabase project/);
    expect(configError(() => createJobStore({ kind: 'mysql' } as never)).name).toBe('ConfigError');
  });
});
