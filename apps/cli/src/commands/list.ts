import { JOB_TYPES, JobStatus, type JobType, type StatusRow } from '@kai-jobs/queue';
import type { CommandSpec } from '../cli/command.js';
import { UsageError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliEnv } from '../config/cli-env.js';
import { withSystem } from '../config/system.js';
import { formatDuration, formatPercent, formatTable, orDash, writeJson, writeLines } from '../output/format.js';
import { rowSummary } from './job-inspection.js';

const STATUSES = Object.values(JobStatus);

/** `kai-jobs list` — jobs by type and status, or the ones stuck right now. */
export const listCommand: CommandSpec = {
  name: 'list',
  summary: 'list jobs by type and status, or the stuck ones (--stuck)',
  usage: 'list [--type pdf|scrape|xml-import] [--status s] [--stuck] [--limit n] [--json]',
  description:
    'Lists jobs, newest update first. --stuck lists the unfinished jobs whose heartbeat or last update is older than ' +
    'the monitor\'s thresholds right now (PDF_HEARTBEAT_TIMEOUT_MS, PDF_UPDATE_TIMEOUT_MS, SCRAPE_UPDATE_TIMEOUT_MS, ' +
    'XML_IMPORT_UPDATE_TIMEOUT_MS, or the catalog\'s defaults, and per-job overrides) — what the monitor\'s next tick ' +
    'will examine — with the reason and how long each has been stuck.',
  positionals: [],
  options: {
    type: { type: 'string', valueName: 'type', value: { kind: 'choice', choices: JOB_TYPES }, description: `one job type (${JOB_TYPES.join(', ')}); default all` },
    status: { type: 'string', valueName: 'status', value: { kind: 'choice', choices: STATUSES }, description: `one status (${STATUSES.join(', ')}); default all` },
    stuck: { type: 'boolean', description: 'only jobs past the monitor\'s thresholds (ignores --status)' },
    limit: { type: 'string', valueName: 'n', value: { kind: 'int', min: 1, max: 10_000 }, description: 'at most n jobs (default 20)' },
  },
  examples: ['kai-jobs list', 'kai-jobs list --type pdf --status failed --limit 50', 'kai-jobs list --stuck', 'kai-jobs list --stuck --json | jq ".jobs[].id"'],
  async run({ io, json }, args) {
    const typeFilter = args.choice('type', JOB_TYPES);
    const statusFilter = args.choice('status', STATUSES);
    const limit = args.int('limit', { min: 1, max: 10_000 }) ?? 20;
    const stuck = args.flag('stuck');
    if (stuck && statusFilter !== undefined) throw new UsageError('--stuck lists unfinished jobs of any status; drop --status', 'list');
    const types: readonly JobType[] = typeFilter === undefined ? JOB_TYPES : [typeFilter];
    // Imported only for --stuck: the monitor's settings load @kai-jobs/monitor (and the Sentry SDK).
    const settings = stuck ? (await import('../config/monitor-settings.js')).monitorSettings(io.env) : null;
    return withSystem(parseCliEnv(io.env), async (system) => {
      const storeNow = await system.store.now();
      const jobs: (Record<string, unknown> & { updatedAt: number })[] = [];
      if (settings !== null) {
        for (const type of types) {
          const thresholds = settings.types[type];
          const candidates = await system.store.findStale(type, {
            heartbeatOlderThanMs: thresholds.heartbeatTimeoutMs,
            updateOlderThanMs: thresholds.updateTimeoutMs,
            limit,
          });
          for (const candidate of candidates) {
            jobs.push({ ...rowSummary(candidate.row), updatedAt: candidate.row.updatedAt, stuck: { reason: candidate.reason, ageMs: candidate.ageMs } });
          }
        }
      } else {
        const statuses = statusFilter === undefined ? STATUSES : [statusFilter];
        for (const type of types) {
          for (const status of statuses) {
            const rows: StatusRow[] = await system.store.list({ type, status, limit });
            for (const row of rows) jobs.push({ ...rowSummary(row), updatedAt: row.updatedAt });
          }
        }
      }
      jobs.sort((a, b) => b.updatedAt - a.updatedAt);
      const shown = jobs.slice(0, limit);
      if (json) {
        writeJson(io.stdout, {
          jobs: shown,
          storeNow,
          ...(settings === null ? {} : { thresholds: Object.fromEntries(types.map((type) => [type, settings.types[type]])) }),
        });
        return ExitCode.Ok;
      }
      if (shown.length === 0) {
        writeLines(io.stdout, [stuck ? 'no stuck jobs' : 'no jobs']);
        return ExitCode.Ok;
      }
      const header = ['id', 'type', 'status', 'stage', 'progress', 'updated', ...(stuck ? ['stuck'] : ['worker'])];
      const rows = shown.map((job) => {
        const stuckInfo = job['stuck'] as { reason: string; ageMs: number } | undefined;
        return [
          String(job['id']),
          String(job['type']),
          String(job['status']),
          orDash(job['stage']),
          formatPercent(Number(job['progress'])),
          `${formatDuration(storeNow - job.updatedAt)} ago`,
          stuckInfo === undefined ? orDash(job['workerId']) : `${stuckInfo.reason} for ${formatDuration(stuckInfo.ageMs)}`,
        ];
      });
      writeLines(io.stdout, formatTable(header, rows));
      return ExitCode.Ok;
    });
  },
};
