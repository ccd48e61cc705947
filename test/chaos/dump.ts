/**
 * When a scenario's invariants break, what the failing jobs went through: their history,
 * stage runs and commits, and every log line of every process that names them, written to
 * a JSON file under the OS temp folder (its path is returned, for the failure message).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosSnapshot } from './invariants.js';
import type { Scenario } from './scenario.js';

/** Writes the failing jobs' story to `<tmp>/kai-chaos-<scenario>-<time>.json`; returns the path, or null when nothing failed. */
export function dumpViolations(scenario: Scenario, name: string, violations: readonly string[], snapshot: ChaosSnapshot): string | null {
  if (violations.length === 0) return null;
  const failing = new Set(violations.map((line) => line.split(':')[0] ?? ''));
  const jobs = snapshot.jobs
    .filter((job) => failing.has(job.id))
    .slice(0, 10)
    .map((job) => ({
      ...job,
      logs: scenario.fleet.history.flatMap((process) =>
        process.logs.filter((line) => JSON.stringify(line).includes(job.id)).map((line) => ({ process: process.workerId, ...line })),
      ),
    }));
  const path = join(tmpdir(), `kai-chaos-${name}-${Date.now()}.json`);
  writeFileSync(path, JSON.stringify({ violations, jobs, alerts: snapshot.alerts, rowsInFlight: snapshot.rowsInFlight }, null, 2));
  writeMergedLog(scenario, path.replace(/\.json$/, '.log.ndjson'));
  return path;
}

/** Every process's log, merged in time order, one JSON line each. */
function writeMergedLog(scenario: Scenario, path: string): void {
  const lines = scenario.fleet.history
    .flatMap((process) => process.logs.map((line): Record<string, unknown> => ({ process: process.workerId, ...line })))
    .sort((a, b) => String(a['time'] ?? '').localeCompare(String(b['time'] ?? '')));
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join('\n'));
}

/** When a scenario gives up waiting: every process's merged log, to `<tmp>/kai-chaos-<scenario>-<time>.log.ndjson`; returns the path. */
export function dumpLogs(scenario: Scenario, name: string): string {
  const path = join(tmpdir(), `kai-chaos-${name}-${Date.now()}.log.ndjson`);
  writeMergedLog(scenario, path);
  return path;
}
