import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

/** A worker or monitor process of the soak, one lifetime (a restart is a new one). */
export interface SoakProcess {
  /** `w0`, `w1`, `m0`…: the slot, kept across restarts. */
  readonly slot: string;
  /** The id given to this lifetime (WORKER_ID / MONITOR_ID). */
  readonly id: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<number | string>;
}

/** What {@link startSoakProcess} needs. */
export interface StartSoakProcessOptions {
  slot: string;
  id: string;
  /** The entry script, run with `node --import tsx`. */
  script: string;
  env: Record<string, string>;
  /** Its stdout and stderr are appended here (so the parent keeps none of it in memory). */
  logFile: string;
  /** The log message that means the process is ready. */
  readyMessage: string;
  timeoutMs?: number;
}

/**
 * Spawns a process and resolves once it logged `readyMessage`. Only the first lines are
 * scanned for it; everything goes to the log file.
 */
export async function startSoakProcess(options: StartSoakProcessOptions): Promise<SoakProcess> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', options.script], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => fail(new Error(`${options.id} not ready after ${options.timeoutMs ?? 60_000} ms (see ${options.logFile})`)), options.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer): void => {
      seen = (seen + chunk.toString()).slice(-8192);
      if (seen.includes(`"${options.readyMessage}"`)) done();
    };
    const onExit = (code: number | null): void => fail(new Error(`${options.id} exited with ${code} before it was ready (see ${options.logFile})`));
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    const done = (): void => {
      cleanup();
      resolve();
    };
    const fail = (error: Error): void => {
      cleanup();
      reject(error);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  return { slot: options.slot, id: options.id, pid: child.pid as number, startedAt: Date.now(), child, exited };
}

/** `kill -9` and wait for the exit. */
export async function killHard(proc: SoakProcess): Promise<void> {
  proc.child.kill('SIGKILL');
  await proc.exited;
}

/** SIGTERM (graceful shutdown), then SIGKILL after `graceMs`. */
export async function stopGracefully(proc: SoakProcess, graceMs = 30_000): Promise<number | string> {
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const result = await proc.exited;
  clearTimeout(timer);
  return result;
}

/** Resident set size of `pid` in bytes (VmRSS of /proc/<pid>/status), or null when it is gone. */
export function rssOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}
