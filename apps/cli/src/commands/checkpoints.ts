import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliEnv } from '../config/cli-env.js';
import { withSystem } from '../config/system.js';
import { formatTable, formatTime, orDash, writeJson, writeLines } from '../output/format.js';
import { inspectCheckpoints, requireRow } from './job-inspection.js';

/** `kai-jobs checkpoints <id>` — a job's saved stage outputs and where it would resume. */
export const checkpointsCommand: CommandSpec = {
  name: 'checkpoints',
  summary: 'show a job\'s checkpoints, which are valid, and where a restart resumes',
  usage: 'checkpoints <id> [--data] [--json]',
  description:
    'Lists the checkpoints of a job — one per finished stage — with size, sha256, attempt and time, checks each one ' +
    'against its sha256 and the stage order (as the monitor does before a restart), and says which stage a restart ' +
    'would run first. --data includes the saved outputs.',
  positionals: [{ name: 'id', required: true, description: 'the job id' }],
  options: { data: { type: 'boolean', description: 'include each checkpoint\'s saved output' } },
  examples: ['kai-jobs checkpoints 3f0c…', 'kai-jobs checkpoints 3f0c… --data --json'],
  async run({ io, json }, args) {
    const id = args.positional(0) as string;
    return withSystem(parseCliEnv(io.env), async (system) => {
      const row = await requireRow(system, id);
      const report = await inspectCheckpoints(system.store, id, row.type, args.flag('data'));
      if (json) {
        writeJson(io.stdout, { id, type: row.type, status: row.status, ...report });
        return ExitCode.Ok;
      }
      const lines = [`job ${id} (${row.type}, ${row.status}): a restart resumes at ${orDash(report.resumeFrom)}`];
      if (report.checkpoints.length === 0) lines.push('no checkpoints');
      else {
        lines.push(
          ...formatTable(
            ['#', 'stage', 'valid', 'bytes', 'sha256', 'attempt', 'saved'],
            report.checkpoints.map((c) => [String(c.stageIndex), c.stage, c.valid ? 'yes' : `no: ${c.invalidReason} ${c.invalidDetail ?? ''}`.trim(), String(c.bytes), c.sha256.slice(0, 12), String(c.attempt), formatTime(c.createdAt)]),
          ),
        );
        if (args.flag('data')) for (const c of report.checkpoints) lines.push('', `${c.stage}:`, JSON.stringify(c.data, null, 2));
      }
      writeLines(io.stdout, lines);
      return ExitCode.Ok;
    });
  },
};
