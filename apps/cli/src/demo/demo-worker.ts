import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Environment } from '../config/cli-env.js';

/** The extra worker process the demo starts so it has one to kill. */
export interface DemoWorker {
  readonly workerId: string;
  readonly pid: number;
  /** Resolves with the exit code or signal once it has exited. */
  readonly exited: Promise<number | string>;
  /** `kill -9`: the process dies without a word, like an OOM kill. */
  killHard(): Promise<void>;
  /** Stops it if it still runs (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/** Compiled (dist/): the worker runs the compiled binary with plain node; from the sources, through tsx. */
const COMPILED = import.meta.url.endsWith('.js');
const BIN = fileURLToPath(new URL(COMPILED ? '../bin/kai-jobs.js' : '../bin/kai-jobs.ts', import.meta.url));
const NODE_ARGS = COMPILED ? [] : ['--import', 'tsx'];
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts `kai-jobs worker` for PDF jobs only, one at a time, with a short BullMQ lock (5 s),
 * so once it is killed the job's lock expires quickly and a remaining worker's stalled check
 * hands the job back. Resolves when the worker reports ready.
 */
export async function startDemoWorker(env: Environment, readyTimeoutMs = 60_000): Promise<DemoWorker> {
  const workerId = `demo-worker-${randomBytes(3).toString('hex')}`;
  const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, BIN, 'worker', '--json'], {
    cwd: PACKAGE_DIR,
    env: {
      ...env,
      WORKER_TYPES: 'pdf',
      WORKER_ID: workerId,
      WORKER_CONCURRENCY: 'pdf=1',
      LOCK_DURATION_MS: '5000',
      STALLED_INTERVAL_MS: '5000',
      LOG_FORMAT: 'json',
      LOG_LEVEL: env['LOG_LEVEL'] ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo worker did not get ready within ${readyTimeoutMs} ms; stderr: ${stderr}`)), readyTimeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/"ready": ?true/.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the demo worker exited (${code}) before it was ready; stderr: ${stderr}`));
    });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    workerId,
    pid: child.pid as number,
    exited,
    async killHard() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
