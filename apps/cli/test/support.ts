/**
 * Helpers of the CLI's tests: run a command line in-process with buffers for stdout/stderr,
 * keep a long-running command (worker, monitor, board) running until the test stops it, and
 * spawn the real binary.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@kai-jobs/queue/testing';
import { COMMANDS, runCli, type CliIo, type ExitCode, type OutputStream } from '../src/index.js';

/** The binary. */
export const KAI_JOBS_BIN = fileURLToPath(new URL('../src/bin/kai-jobs.ts', import.meta.url));
/** The compiled binary (`pnpm build`), which `pnpm start`, `pnpm kai-jobs` and the image run with plain node. */
export const COMPILED_KAI_JOBS_BIN = fileURLToPath(new URL('../dist/bin/kai-jobs.js', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL('../../../scripts/build.mjs', import.meta.url));

/**
 * Compiles the workspace when a source is newer than dist/ (`node scripts/build.mjs
 * --if-stale`, which `pnpm start` runs too). Tests of the compiled code call it in `beforeAll`
 * (up to minutes on a loaded machine; seconds when dist/ is current); concurrent callers wait
 * for one build (the script holds a lock).
 */
export function ensureBuilt(): void {
  execFileSync(process.execPath, [BUILD_SCRIPT, '--if-stale', '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** A stream that keeps what is written. */
export class Buffered implements OutputStream {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** What an in-process run printed and returned. */
export interface CliRun {
  code: ExitCode;
  stdout: string;
  stderr: string;
  /** stdout parsed as the one JSON document `--json` promises. */
  json<T = Record<string, unknown>>(): T;
}

function makeIo(env: Record<string, string | undefined>, signal: AbortSignal, tty = false): { io: CliIo; stdout: Buffered; stderr: Buffered } {
  const stdout = new Buffered(tty);
  const stderr = new Buffered(tty);
  return { io: { stdout, stderr, env, stopSignal: signal, cwd: process.cwd() }, stdout, stderr };
}

function parseDocument<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${(error as Error).message}):\n${text}`, { cause: error });
  }
}

/** Runs one command line in-process to its end; `tty` makes its streams say they are a terminal. */
export async function kaiJobs(argv: readonly string[], env: Record<string, string | undefined>, options: { tty?: boolean } = {}): Promise<CliRun> {
  const { io, stdout, stderr } = makeIo(env, new AbortController().signal, options.tty);
  const code = await runCli(COMMANDS, argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text, json: () => parseDocument(stdout.text) };
}

/** A long-running command running in-process until {@link RunningCommand.stop}. */
export interface RunningCommand {
  /** Its ready document (`--json`). */
  readonly ready: Record<string, unknown>;
  readonly stderr: Buffered;
  /** Aborts it (as SIGTERM would) and resolves with its exit code. */
  stop(): Promise<ExitCode>;
}

/** Starts `argv` (with `--json`) in-process and waits for its ready document. */
export async function startCommand(argv: readonly string[], env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<RunningCommand> {
  const controller = new AbortController();
  const { io, stdout, stderr } = makeIo(env, controller.signal);
  let finished: ExitCode | undefined;
  const done = runCli(COMMANDS, [...argv, '--json'], io).then((code) => {
    finished = code;
    return code;
  });
  await waitFor(() => finished !== undefined || /"ready": ?true/.test(stdout.text), {
    timeoutMs,
    message: `${argv.join(' ')} did not get ready; stderr: ${stderr.text.slice(-2000)}`,
  });
  if (finished !== undefined) throw new Error(`${argv.join(' ')} exited ${finished} before it was ready: ${stdout.text} ${stderr.text.slice(-2000)}`);
  return {
    ready: parseDocument(stdout.text),
    stderr,
    async stop() {
      controller.abort();
      return done;
    },
  };
}

/** A spawned `kai-jobs` process. */
export interface SpawnedCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the first match of `pattern` in stderr (where the log lines go). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The exit code (or signal name). */
  readonly exited: Promise<number | string>;
  /** SIGKILL if still running, and wait. */
  kill(): Promise<void>;
}

/** Spawns the binary with `argv` and `env` (on top of this process's environment). */
export function spawnCli(argv: readonly string[], env: Record<string, string>): SpawnedCli {
  const child = spawn(process.execPath, ['--import', 'tsx', KAI_JOBS_BIN, ...argv], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return trackSpawned(child);
}

/** Spawns the compiled binary with plain node (no tsx), as the image runs it. */
export function spawnCompiled(argv: readonly string[], env: Record<string, string>): SpawnedCli {
  const child = spawn(process.execPath, [COMPILED_KAI_JOBS_BIN, ...argv], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return trackSpawned(child);
}

/** The repository's root, where `pnpm start` runs. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Runs `pnpm <argv>` (say `start`) from the repository root as an operator does, in a process
 * group of its own (`detached`), as a terminal runs a foreground command: `kill -INT -<pid>`
 * is then what Ctrl-C does. The group's id is the pnpm process's pid.
 */
export function spawnPnpm(argv: readonly string[], env: Record<string, string>): SpawnedCli {
  const child = spawn('pnpm', [...argv], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const spawned = trackSpawned(child);
  return {
    ...spawned,
    async kill() {
      // The whole group: a failed test must not leave its kai-jobs process behind pnpm.
      for (const member of processGroup(child.pid as number)) {
        try {
          process.kill(member.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await spawned.kill();
    },
  };
}

function trackSpawned(child: ChildProcess): SpawnedCli {
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const running = () => child.exitCode === null && child.signalCode === null;
  const waitForOutput = async (text: () => string, name: string, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> => {
    let match: RegExpMatchArray | null = null;
    await waitFor(
      () => {
        match = pattern.exec(text());
        return match !== null || !running();
      },
      { timeoutMs, intervalMs: 50, message: `no ${pattern} on ${name}; stdout: ${out.slice(-1000)} stderr: ${err.slice(-2000)}` },
    );
    if (match === null) throw new Error(`the process exited (${child.exitCode ?? child.signalCode}) before ${pattern}; stdout: ${out.slice(-1000)} stderr: ${err.slice(-2000)}`);
    return match;
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout: (pattern, timeoutMs) => waitForOutput(() => out, 'stdout', pattern, timeoutMs),
    waitForStderr: (pattern, timeoutMs) => waitForOutput(() => err, 'stderr', pattern, timeoutMs),
    exited,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** One process as `/proc` shows it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** `R`, `S`, … `Z` for a zombie (exited, not yet reaped: not running). */
  state: string;
  command: string;
}

/** The processes of process group `pgid` that have not exited (zombies left out), from `/proc` (Linux). */
export function processGroup(pgid: number): ProcessInfo[] {
  const members: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")".
    const close = stat.lastIndexOf(')');
    const [state, ppid, pgrp] = stat.slice(close + 2).split(' ');
    if (Number(pgrp) !== pgid || state === 'Z') continue;
    members.push({ pid: Number(name), ppid: Number(ppid), state: state as string, command: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return members;
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'kai-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The environment of a deployment under the test's prefix, with short lock and stall times. */
export function testEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    KAI_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    HEARTBEAT_INTERVAL_MS: '500',
    LOCK_DURATION_MS: '2000',
    STALLED_INTERVAL_MS: '1000',
    SHUTDOWN_GRACE_MS: '2000',
    ARTIFACTS_DIR: tempDir('kai-cli-artifacts-'),
    // File sources are off without FILE_ROOT; the tests' inputs are written under the temp folder.
    FILE_ROOT: tmpdir(),
    ...extra,
  };
}
