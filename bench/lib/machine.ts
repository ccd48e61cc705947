import { execFileSync } from 'node:child_process';
import { cpus, freemem, platform, release, totalmem } from 'node:os';

function commandOutput(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).trim();
  } catch {
    // not installed, or not a checkout
    return 'unknown';
  }
}

/** The machine a benchmark report was written on: date, commit, OS, CPU, memory, Node, Redis. */
export function describeMachine(): Record<string, string> {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    commit: commandOutput('git', ['rev-parse', '--short', 'HEAD']),
    os: `${platform()} ${release()}`,
    cpu: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB (${Math.round(freemem() / 2 ** 30)} GiB free at start)`,
    node: process.version,
    redis: commandOutput('redis-server', ['--version']),
  };
}
