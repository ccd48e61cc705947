import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectErrorNamed, signTestJwt, startSupabaseTestStack, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { SupabaseJobStore } from '@kai-jobs/queue';
import { checkpointSha256, latestValidCheckpoints, type JobRef } from '../src/index.js';

// SupabaseJobStore's checkpoints beyond the contract: keys and roles, the exact stored text, bad input,
// resume states, retention.
let stack: SupabaseTestStack;
let schema: string;
let status: SupabaseJobStore;
let opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  stack = await startSupabaseTestStack();
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(async () => {
  schema = await stack.createSchema('checkpoint_api');
  status = new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema });
  opened = [status];
});
afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
  await stack.dropSchema(schema);
});

function store(serviceRoleKey = stack.serviceRoleKey, options: { retentionMs?: number } = {}): SupabaseJobStore {
  const retention = options.retentionMs === undefined ? {} : { retention: { checkpointRetentionMs: options.retentionMs } };
  const created = new SupabaseJobStore({ url: stack.url, serviceRoleKey, schema, ...retention });
  opened.push(created);
  return created;
}

async function runningJob(): Promise<JobRef> {
  const job: JobRef = { id: randomUUID(), type: 'pdf' };
  await status.create({ id: job.id, type: 'pdf', payload: {} });
  await status.markProcessing(job.id, { fence: 'f1', workerId: 'w1' });
  return job;
}

const save = (checkpoints: SupabaseJobStore, job: JobRef, data: unknown) =>
  checkpoints.saveCheckpoint(job, { stage: 'a', stageIndex: 0, data, fence: 'f1', schemaVersion: 1, attempt: 1 });

async function storedRows(): Promise<number> {
  return (await stack.admin.query<{ n: number }>(`select count(*)::int as n from "${schema}".job_checkpoints`)).rows[0]?.n ?? -1;
}

describe('SupabaseJobStore checkpoints', () => {
  it('is refused with a wrong key, an expired key and the anon key, and writes nothing', async () => {
    const job = await runningJob();
    const wrongKey = signTestJwt({ role: 'service_role' }, 'another-secret-another-secret-another-secret');
    const wrong = await expectErrorNamed(save(store(wrongKey), job, { n: 1 }), 'StoreError');
    expect(wrong).toMatchObject({ retryable: false });
    expect(wrong.message).toMatch(/refused the key.*Invalid API key.*HTTP 401, PGRST301/);
    const expiredKey = signTestJwt({ role: 'service_role', exp: Math.floor(Date.now() / 1000) - 60 }, stack.jwtSecret);
    expect((await expectErrorNamed(store(expiredKey).listCheckpoints(job), 'StoreError')).message).toContain('JWT expired');
    const anon = await expectErrorNamed(save(store(stack.anonKey), job, { n: 1 }), 'StoreError');
    expect(anon.message).toMatch(/permission denied for function kai_save_checkpoint/);
    // A signed-in user cannot read checkpoints either.
    const user = await expectErrorNamed(store(stack.userToken()).listCheckpoints(job), 'StoreError');
    expect(user.message).toMatch(/permission denied for function kai_list_checkpoints/);
    expect(await storedRows()).toBe(0);
  });

  it('stores the exact JSON text it hashed, so the hash still matches when read back', async () => {
    const checkpoints = store();
    const job = await runningJob();
    // Key order, unicode, escapes and numbers that jsonb would rewrite.
    const data = { z: 1, a: [1e21, 0.1, -0], s: 'é ✓ \u2028 "q" \\ \n', nested: { b: null, a: true } };
    const saved = await save(checkpoints, job, data);
    const { rows } = await stack.admin.query<{ data_json: string; sha256: string; bytes: number }>(
      `select data_json, sha256, bytes from "${schema}".job_checkpoints where job_id = $1`,
      [job.id],
    );
    expect(rows[0]).toEqual({ data_json: JSON.stringify(data), sha256: saved.sha256, bytes: Buffer.byteLength(JSON.stringify(data)) });
    const [listed] = await checkpoints.listCheckpoints(job);
    expect(listed?.dataJson).toBe(JSON.stringify(data));
    expect(checkpointSha256(listed?.dataJson ?? '')).toBe(listed?.sha256);
    expect((await latestValidCheckpoints(checkpoints, job, [{ name: 'a', schema: z.unknown() }])).resumeIndex).toBe(1);
  });

  it('refuses bad input with an error that says what is wrong', async () => {
    const checkpoints = store();
    const job = await runningJob();
    const nan = await expectErrorNamed(
      checkpoints.saveCheckpoint(job, { stage: 'a', stageIndex: 0, data: {}, fence: 'f1', schemaVersion: 1, attempt: 1, progress: { nextStage: 'b', percent: Number.NaN } }),
      'ValidationError',
    );
    expect(nan.message).toMatch(/progress\.percent/);
    const over = await expectErrorNamed(
      checkpoints.saveCheckpoint(job, { stage: 'a', stageIndex: 0, data: {}, fence: 'f1', schemaVersion: 1, attempt: 1, progress: { nextStage: 'b', percent: 150 } }),
      'ValidationError',
    );
    expect(over.message).toMatch(/progress_range/);
    const badIndex = await expectErrorNamed(checkpoints.saveCheckpoint(job, { stage: 'a', stageIndex: -1, data: {}, fence: 'f1', schemaVersion: 1, attempt: 1 }), 'ValidationError');
    expect(badIndex.message).toMatch(/stage index/);
    expect(await storedRows()).toBe(0);
  });

  it('keeps resume states apart from checkpoints, and ignores a damaged one', async () => {
    const checkpoints = store();
    const job = await runningJob();
    await checkpoints.saveResumeState(job, { stage: 'b', state: { cursor: 7 }, fence: 'f1', attempt: 1 });
    expect(await checkpoints.listCheckpoints(job)).toEqual([]);
    expect(await checkpoints.loadResumeState(job, 'b')).toMatchObject({ stage: 'b', state: { cursor: 7 }, attempt: 1, fence: 'f1', savedAt: expect.any(Number) });
    await stack.admin.query(`update "${schema}".job_checkpoints set data_json = '{"cursor": 9}' where job_id = $1`, [job.id]);
    expect(await checkpoints.loadResumeState(job, 'b')).toBeNull();
  });

  it('expire keeps checkpoints for the retention window; purge removes them after', async () => {
    const checkpoints = store(stack.serviceRoleKey, { retentionMs: 60_000 });
    const job = await runningJob();
    await save(checkpoints, job, { n: 1 });
    await checkpoints.expireCheckpoints(job);
    expect(await checkpoints.listCheckpoints(job)).toHaveLength(1);
    expect(await checkpoints.purgeExpiredCheckpoints()).toBe(0);
    await stack.admin.query(`update "${schema}".job_checkpoints set expires_at = now() - interval '1 second'`);
    expect(await checkpoints.listCheckpoints(job)).toEqual([]);
    expect(await checkpoints.purgeExpiredCheckpoints()).toBe(1);
    expect(await storedRows()).toBe(0);
  });
});
