import { describe, expect, it } from 'vitest';
import { isSecretKey, scrubSecrets, scrubString } from '../src/index.js';

describe('scrubbing secrets', () => {
  it('recognises secret keys in any case and separator style', () => {
    for (const key of ['password', 'Password', 'token', 'accessToken', 'refresh_token', 'apiKey', 'api_key', 'x-api-key', 'authorization', 'Authorization', 'cookie', 'set-cookie', 'serviceRoleKey', 'service_role_key', 'dsn', 'SENTRY_DSN', 'client_secret', 'privateKey']) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['job_id', 'source_url', 'total_tokens', 'error_message', 'failure_reason', 'author']) {
      expect(isSecretKey(key), key).toBe(false);
    }
  });

  it('removes URL credentials, secret query parameters, key=value secrets and auth headers from text', () => {
    expect(scrubString('fetch https://bob:hunter2@cdn.example.com/a.pdf failed')).toBe(
      'fetch https://[scrubbed]@cdn.example.com/a.pdf failed',
    );
    expect(scrubString('(https://x.example.com/f?token=abc&page=2)')).toBe('(https://x.example.com/f?token=[scrubbed]&page=2)');
    expect(scrubString('https://x.example.com/f?api_key=k1&sig=s2')).toBe('https://x.example.com/f?api_key=[scrubbed]&sig=[scrubbed]');
    expect(scrubString('login failed: password=hunter2, user=bob')).toBe('login failed: password=[scrubbed], user=bob');
    expect(scrubString('header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y')).toBe('header Authorization: Bearer [scrubbed]');
    expect(scrubString('redis://:s3cret@10.0.0.1:6379')).toBe('redis://[scrubbed]@10.0.0.1:6379');
    expect(scrubString('nothing to hide here: 42 pages')).toBe('nothing to hide here: 42 pages');
  });

  it('copies nested data with secret values replaced, leaving the input untouched', () => {
    const input = {
      tags: { job_id: 'j', source_url: 'https://u:p@h.example.com/' },
      extra: { options: { apiKey: 'sk-1', nested: [{ token: 't' }, 'https://h.example.com/?token=zzz'] }, cookie: null },
      serviceRoleKey: 'eyJ...',
    };
    const out = scrubSecrets(input);
    expect(out).toEqual({
      tags: { job_id: 'j', source_url: 'https://[scrubbed]@h.example.com/' },
      extra: { options: { apiKey: '[scrubbed]', nested: [{ token: '[scrubbed]' }, 'https://h.example.com/?token=[scrubbed]'] }, cookie: null },
      serviceRoleKey: '[scrubbed]',
    });
    expect(input.extra.options.apiKey).toBe('sk-1');
  });
});
