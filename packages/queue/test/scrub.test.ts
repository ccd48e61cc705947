import { describe, expect, it } from 'vitest';
import {
  isKaiJobsError,
  isSecretKey,
  isSecretQueryParameter,
  KaiJobsError,
  QueueErrorCode,
  SCRUBBED,
  scrubErrorInPlace,
  scrubSecrets,
  scrubString,
} from '../src/index.js';
import { leakedSampleSecrets, SIGNED_URL_SAMPLES } from '../src/testing.js';

describe('scrubbing secrets', () => {
  it('recognises secret keys in any case and separator style', () => {
    for (const key of [
      'password',
      'Password',
      'token',
      'accessToken',
      'refresh_token',
      'apiKey',
      'api_key',
      'x-api-key',
      'authorization',
      'Authorization',
      'cookie',
      'set-cookie',
      'serviceRoleKey',
      'service_role_key',
      'dsn',
      'SENTRY_DSN',
      'client_secret',
      'privateKey',
      'X-Amz-Signature',
      'x-amz-credential',
      'X-Amz-Security-Token',
      'X-Goog-Signature',
      'X-GOOG-CREDENTIAL',
      'access_key',
      'aws_secret_access_key',
      'AWSAccessKeyId',
      'AccountKey',
      'sig',
      'SV',
      'basicAuth',
    ]) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['job_id', 'source_url', 'total_tokens', 'error_message', 'failure_reason', 'author', 'auth', 'key', 'material_key', 'signed_headers', 'se', 'sp']) {
      expect(isSecretKey(key), key).toBe(false);
    }
    // `key` is scrubbed as a query parameter (Google API keys) but not as a field name.
    expect(isSecretQueryParameter('key')).toBe(true);
    expect(isSecretQueryParameter('auth')).toBe(true);
    // The board logs its auth mode; that is not a secret.
    expect(scrubString('board listening, auth: on')).toBe('board listening, auth: on');
    expect(isSecretQueryParameter('X-Amz-Date')).toBe(false);
  });

  it('removes URL credentials, secret query parameters, key=value secrets and auth headers from text', () => {
    expect(scrubString('fetch https://bob:hunter2@cdn.example.com/a.pdf failed')).toBe('fetch https://[scrubbed]@cdn.example.com/a.pdf failed');
    expect(scrubString('(https://x.example.com/f?token=abc&page=2)')).toBe('(https://x.example.com/f?token=[scrubbed]&page=2)');
    expect(scrubString('https://x.example.com/f?api_key=k1&sig=s2')).toBe('https://x.example.com/f?api_key=[scrubbed]&sig=[scrubbed]');
    expect(scrubString('login failed: password=hunter2, user=bob')).toBe('login failed: password=[scrubbed], user=bob');
    expect(scrubString('header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y')).toBe('header Authorization: Bearer [scrubbed]');
    expect(scrubString('redis://:s3cret@10.0.0.1:6379')).toBe('redis://[scrubbed]@10.0.0.1:6379');
    expect(scrubString('nothing to hide here: 42 pages')).toBe('nothing to hide here: 42 pages');
    expect(scrubString('stage: pdf_loaded, https://example.com/a.pdf?page=2&lang=en')).toBe('stage: pdf_loaded, https://example.com/a.pdf?page=2&lang=en');
  });

  it.each(SIGNED_URL_SAMPLES.map((sample) => [sample.label, sample] as const))('scrubs a %s in free text and keeps what is not secret', (_label, sample) => {
    const message = `GET ${sample.url} answered 403 (AccessDenied); retrying`;
    const scrubbed = scrubString(message);
    expect(leakedSampleSecrets(scrubbed)).toEqual([]);
    for (const kept of sample.kept) expect(scrubbed).toContain(kept);
    expect(scrubbed).toMatch(/^GET https:\/\/.* answered 403 \(AccessDenied\); retrying$/);
    // Idempotent, so a fingerprint built from a scrubbed URL stays stable.
    expect(scrubString(scrubbed)).toBe(scrubbed);
  });

  it('scrubs signed URLs quoted in JSON, HTML, URL-encoded inside another URL, and bare query strings', () => {
    const [s3, , , gcs, azure] = SIGNED_URL_SAMPLES;
    const texts = [
      JSON.stringify({ url: s3?.url }),
      `<a href="${azure?.url.replace(/&/g, '&amp;') ?? ''}">spec</a>`,
      `https://proxy.example.com/fetch?target=${encodeURIComponent(gcs?.url ?? '')}`,
      `https://proxy.example.com/fetch?target=${encodeURIComponent(s3?.url ?? '')}&then=1`,
      new URL(azure?.url ?? '').search.slice(1),
    ];
    for (const text of texts) expect(leakedSampleSecrets(scrubString(text)), text).toEqual([]);
    expect(scrubString('sv=2022-11-02&sr=b&sig=abc%3D')).toBe('sv=[scrubbed]&sr=b&sig=[scrubbed]');
  });

  it('scrubs header-style and connection-string secrets and bare JWTs', () => {
    const header =
      'Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261207/eu-central-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3be';
    expect(scrubString(header)).not.toMatch(/AKIAIOSFODNN7EXAMPLE|fe5f80f77d5fa3be/);
    expect(scrubString('x-amz-security-token: IQoJb3JpZ2luX2Vj')).toBe('x-amz-security-token: [scrubbed]');
    expect(scrubString('DefaultEndpointsProtocol=https;AccountName=kaistore;AccountKey=c2VjcmV0a2V5Cg==;EndpointSuffix=core.windows.net')).toBe(
      'DefaultEndpointsProtocol=https;AccountName=kaistore;AccountKey=[scrubbed];EndpointSuffix=core.windows.net',
    );
    // A made-up token, built here so no JWT-shaped string sits in the repository.
    const base64url = (text: string): string => Buffer.from(text).toString('base64url');
    const jwt = [base64url('{"alg":"HS256","typ":"JWT"}'), base64url('{"role":"service_role"}'), base64url('signature-secret')].join('.');
    expect(scrubString(`supabase rejected ${jwt}`)).toBe(`supabase rejected ${SCRUBBED}`);
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

  it('scrubs every shape a Sentry event or a log line takes: breadcrumbs, request, keys, URLs, errors, deep nesting', () => {
    const [s3, , , gcs, azure, feed] = SIGNED_URL_SAMPLES;
    let deep: Record<string, unknown> = { url: s3?.url };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    const cause = new Error(`socket hang up on ${gcs?.url ?? ''}`);
    const error = new Error(`fetch ${azure?.url ?? ''} failed`, { cause });
    const input = {
      breadcrumbs: [
        { category: 'http', message: `GET ${s3?.url ?? ''}`, data: { url: azure?.url, 'http.query': new URL(gcs?.url ?? '').search, X_Amz_Signature: 'abc' } },
      ],
      request: { url: feed?.url, query_string: [['sig', 'pairsecret'], ['page', '2']], headers: { 'x-goog-credential': 'headersecret' } },
      contexts: { [`by url ${azure?.url ?? ''}`]: { seen: true } },
      link: new URL(s3?.url ?? ''),
      error,
      deep,
    };
    const out = scrubSecrets(input);
    const text = JSON.stringify(out) + String(out.error.stack) + String((out.error.cause as Error).message);
    expect(leakedSampleSecrets(text)).toEqual([]);
    expect(text).not.toMatch(/pairsecret|headersecret|"abc"/);
    expect(out.request.query_string).toEqual([['sig', SCRUBBED], ['page', '2']]);
    expect(out.error).toBeInstanceOf(Error);
    expect(out.error.message).toContain('kaistore.blob.core.windows.net/docs/spec.pdf');
    expect(input.error.message).toContain('sig=Zm9v');
  });

  it('scrubs an error in place, keeping its class, name and code', () => {
    const error = new KaiJobsError(QueueErrorCode.Validation, `source ${SIGNED_URL_SAMPLES[0]?.url ?? ''} refused`);
    const same = scrubErrorInPlace(error);
    expect(same).toBe(error);
    expect(error).toBeInstanceOf(KaiJobsError);
    expect(error.code).toBe(QueueErrorCode.Validation);
    expect(leakedSampleSecrets(`${error.message}\n${error.stack ?? ''}`)).toEqual([]);
    const copy = scrubSecrets(new KaiJobsError(QueueErrorCode.Validation, 'x?sig=abc'));
    expect(isKaiJobsError(copy)).toBe(true);
    expect(copy.message).toBe('x?sig=[scrubbed]');
  });
});
