import { JobNotFoundError } from '@kai-jobs/queue';
import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliEnv } from '../config/cli-env.js';
import { withSystem } from '../config/system.js';
import { formatDuration, formatPercent, formatTable, formatTime, inlineFields, orDash, writeJson, writeLines } from '../output/format.js';
import { checkpointsHeading, jobActivity } from './job-activity.js';
import { inspectCheckpoints } from './job-inspection.js';

/** `kai-jobs status <id>` — the status row, BullMQ's view, checkpoints and history. */
export const statusCommand: CommandSpec = {
  name: 'status',
  summary: 'show a job: status row, BullMQ state, checkpoints and history',
  usage: 'status <id> [--history n] [--json]',
  description:
    'Shows everything known about one job: its status row (status, stage, progress, attempt, restarts, worker, last ' +
    'heartbeat, error), BullMQ\'s view of it (state, attempts, failed reason, lock holder), its checkpoints (which are ' +
    'valid and where a restart would resume) and its history (every transition, each recovery with its reason). ' +
    'Exit 1 when there is no such job.',
  positionals: [{ name: 'id', required: true, description: 'the job id' }],
  options: {
    history: { type: 'string', valueName: 'n', value: { kind: 'int', min: 1, max: 10_000 }, description: 'history entries to show, newest kept (default 50)' },
  },
  examples: ['kai-jobs status 3f0c…', 'kai-jobs status drill-1712345678-ab12cd --history 200', 'kai-jobs status 3f0c… --json | jq .bullmq.state'],
  async run({ io, json }, args) {
    const id = args.positional(0) as string;
    const historyLimit = args.int('history', { min: 1, max: 10_000 }) ?? 50;
    return withSystem(parseCliEnv(io.env), async (system) => {
      const view = await system.client.getStatus(id);
      if (view === null) throw new JobNotFoundError(id);
      const { row, bullmq } = view;
      const [checkpoints, history, storeNow] = await Promise.all([
        inspectCheckpoints(system.store, id, row.type),
        system.store.history(id, historyLimit),
        system.store.now(),
      ]);
      const activity = jobActivity(row, bullmq, history);
      if (json) {
        writeJson(io.stdout, { id, type: row.type, activity, row, bullmq, checkpoints, history, storeNow });
        return ExitCode.Ok;
      }
      const age = (at: number | null) => (at === null ? '-' : `${formatTime(at)} (${formatDuration(storeNow - at)} ago)`);
      const failed = row.status === 'failed' ? ` — ${orDash(row.error)}${row.errorStage ? ` [stage ${row.errorStage}]` : ''}` : '';
      writeLines(io.stdout, [
        `job ${row.id} (${row.type})`,
        `  status        ${activity.status}${failed}${activity.note === null ? '' : ` — ${activity.note}`}`,
        `  stage         ${orDash(row.currentStage)}  ${formatPercent(row.progress)}  ${row.progressDetail ?? ''}`.trimEnd(),
        `  attempt       ${row.attempt}  restarts ${row.restartCount}${row.resumedFrom ? `  resumed from ${row.resumedFrom}` : ''}`,
        activity.heldBy !== null ? `  worker        ${activity.heldBy}` : `  worker        none${activity.lastWorker === null ? '' : ` (last: ${activity.lastWorker})`}`,
        `  heartbeat     ${age(row.lastHeartbeat)}`,
        `  updated       ${age(row.updatedAt)}`,
        `  created       ${formatTime(row.createdAt)}${row.durationMs === null ? '' : `  took ${formatDuration(row.durationMs)}`}`,
        `  refs          ${inlineFields(row.refs)}`,
        '',
        `BullMQ: ${bullmq.state}  attempts made ${bullmq.attemptsMade}  started ${bullmq.attemptsStarted}${bullmq.state === 'active' && bullmq.processedBy ? `  held by ${bullmq.processedBy}` : ''}${bullmq.failedReason ? `  failed: ${bullmq.failedReason}` : ''}`,
        '',
        checkpointsHeading(row, checkpoints),
        ...(checkpoints.checkpoints.length === 0
          ? []
          : formatTable(
              ['stage', 'valid', 'bytes', 'attempt', 'saved'],
              checkpoints.checkpoints.map((c) => [c.stage, c.valid ? 'yes' : `no: ${c.invalidReason}`, String(c.bytes), String(c.attempt), formatTime(c.createdAt)]),
            ).map((line) => `  ${line}`)),
        '',
        'history:',
        ...history.map((entry) => {
          const { event, at, ...fields } = entry;
          const detail = Object.entries(fields)
            .filter(([, value]) => value !== null && value !== undefined)
            .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
            .join(' ');
          return `  ${formatTime(at)}  ${event}${detail ? `  ${detail}` : ''}`;
        }),
      ]);
      return ExitCode.Ok;
    });
  },
};
