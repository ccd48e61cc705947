/**
 * The platform's edge functions (supabase/functions) under a real Deno runtime — the one the
 * `deno` npm package ships — against a real board (in this process, on loopback) with the
 * Supabase status store, the PostgREST-compatible endpoint over the real PostgreSQL test
 * database, Redis, and the local Sentry envelope receiver.
 *
 * The Deno tests (`supabase/functions/tests/*_test.ts`) call the exported handlers and assert
 * through a small control server here: the rows in PostgreSQL, the BullMQ jobs in Redis, the
 * events Sentry received. This file runs them with `pnpm exec deno test` and fails if they fail.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startBoard } from '../src/index.js';
import { startSentryReceiver, type SentryReceiver } from '@kai-jobs/monitor/testing';
import { bullPrefix, jobCatalog, isJobType, SupabaseJobStore } from '@kai-jobs/queue';
import { startSupabaseTestStack, useRedisTestContext, type SupabaseTestStack } from '@kai-jobs/queue/testing';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FUNCTIONS_DIR = fileURLToPath(new URL('../../../supabase/functions/', import.meta.url));
const BOARD_TOKEN = 'edge-test-token-not-a-secret';

interface Control {
  url: string;
  server: Server;
}

describe('edge functions under Deno', () => {
  const ctx = useRedisTestContext(import.meta.url);
  let stack: SupabaseTestStack;
  let sentry: SentryReceiver;

  beforeAll(async () => {
    stack = await startSupabaseTestStack({ schemaPrefix: 'edge' });
    sentry = await startSentryReceiver();
  });
  afterAll(async () => {
    await sentry?.close();
    await stack?.close();
  });

  /** Answers the Deno tests' questions about PostgreSQL, Redis and Sentry. */
  async function startControl(schema: string, queues: Map<string, Queue>): Promise<Control> {
    const server = createServer((req, res) => {
      const answer = async (): Promise<unknown> => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
        if (parts[0] === 'sentry' && parts[1] === 'events') return sentry.events;
        if (parts[0] === 'rows' && parts.length === 3) {
          const table = parts[1] as string;
          if (!['scraping_sessions', 'data_import_jobs', 'background_jobs'].includes(table)) throw new Error(`no table ${table}`);
          // The platform's row, with the payload kai-jobs keeps for the job that adopted it.
          const { rows } = await stack.admin.query<{ row: unknown }>(
            `select to_jsonb(p) || jsonb_build_object('payload', (select k.payload from "${schema}"."kai_${table}" k where k.row_id = p.id::text)) as row
               from "${schema}"."${table}" p where p.id::text = $1`,
            [parts[2]],
          );
          return rows[0]?.row ?? null;
        }
        if (parts[0] === 'jobs' && parts.length === 3 && isJobType(parts[1] as string)) {
          const type = parts[1] as keyof typeof jobCatalog;
          let queue = queues.get(type);
          if (queue === undefined) {
            const { queueName } = jobCatalog[type];
            queue = new Queue(queueName, { connection: ctx.redis, prefix: bullPrefix(ctx.prefix, queueName) });
            queues.set(type, queue);
          }
          const job = await queue.getJob(parts[2] as string);
          return job === undefined ? null : { id: job.id, state: await job.getState(), data: job.data as unknown };
        }
        throw new Error(`unknown control route ${url.pathname}`);
      };
      answer().then(
        (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  }

  it('the Deno tests pass: rows created and jobs enqueued; every failure reported once with the platform tags', { timeout: 180_000 }, async () => {
    const schema = await stack.createSchema('edge');
    const statusStore = new SupabaseJobStore({ url: stack.url, serviceRoleKey: stack.serviceRoleKey, schema });
    const board = ctx.manage(
      'board',
      await startBoard({ port: 0, host: '127.0.0.1', redis: ctx.redisOptions, auth: { token: BOARD_TOKEN }, statusStore }),
    );
    const queues = new Map<string, Queue>();
    const control = await startControl(schema, queues);
    try {
      const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const child = spawn(
          'pnpm',
          [
            'exec', 'deno', 'test',
            '--config', `${FUNCTIONS_DIR}deno.json`,
            '--node-modules-dir=manual',
            '--no-prompt',
            // Loopback only: the functions, the board, the endpoint, Sentry and the control server.
            '--allow-net=127.0.0.1',
            '--allow-env',
            `--allow-read=${ROOT}`,
            `${FUNCTIONS_DIR}tests/`,
          ],
          {
            cwd: ROOT,
            env: {
              PATH: process.env['PATH'] ?? '',
              HOME: process.env['HOME'] ?? '/tmp',
              NO_COLOR: '1',
              DENO_NO_UPDATE_CHECK: '1',
              SUPABASE_URL: stack.url,
              SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
              SUPABASE_SCHEMA: schema,
              KAI_JOBS_BOARD_URL: board.url,
              KAI_JOBS_BOARD_TOKEN: BOARD_TOKEN,
              SENTRY_DSN: sentry.dsn,
              SENTRY_ENVIRONMENT: 'edge-test',
              KAI_TEST_CONTROL_URL: control.url,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, output }));
      });
      expect(result.output, result.output).toMatch(/ok \| \d+ passed \| 0 failed/);
      expect(result.code, result.output).toBe(0);
      const passed = Number(/ok \| (\d+) passed/.exec(result.output)?.[1]);
      expect(passed).toBeGreaterThanOrEqual(8);
      // Nothing the receiver could not parse.
      expect(sentry.errors).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => control.server.close(() => resolve()));
      for (const queue of queues.values()) await queue.close();
      await statusStore.close();
    }
  });
});
