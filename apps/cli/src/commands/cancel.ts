import { JobNotFoundError } from '@kai-jobs/queue';
import type { CommandSpec } from '../cli/command.js';
import { CommandFailedError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliEnv } from '../config/cli-env.js';
import { withSystem } from '../config/system.js';
import { writeJson, writeLines } from '../output/format.js';

/** `kai-jobs cancel <id>` — fails an unfinished job for good. */
export const cancelCommand: CommandSpec = {
  name: 'cancel',
  summary: 'cancel a job: removed if waiting, stopped if running; its row becomes failed',
  usage: 'cancel <id> [--reason text] [--json]',
  description:
    'Cancels an unfinished job: its status row becomes failed ("cancelled: <reason>"), a waiting or delayed BullMQ ' +
    'job is removed, and a running attempt is asked to stop (its next write is refused in any case). Exit 1 when ' +
    'there is no such job or it had already finished.',
  positionals: [{ name: 'id', required: true, description: 'the job id' }],
  options: { reason: { type: 'string', valueName: 'text', description: 'why (kept in the row and the history; default "cancelled by an operator")' } },
  examples: ['kai-jobs cancel 3f0c…', 'kai-jobs cancel 3f0c… --reason "duplicate upload" --json'],
  async run({ io, json }, args) {
    const id = args.positional(0) as string;
    const reason = args.string('reason') ?? 'cancelled by an operator';
    return withSystem(parseCliEnv(io.env), async (system) => {
      const outcome = await system.client.cancel(id, reason);
      if (outcome.previousStatus === null) throw new JobNotFoundError(id);
      if (!outcome.cancelled) throw new CommandFailedError(`job ${id} had already finished (${outcome.previousStatus}); nothing was cancelled`);
      if (json) writeJson(io.stdout, { id, ...outcome, reason });
      else writeLines(io.stdout, [`cancelled job ${id} (was ${outcome.previousStatus})${outcome.abortRequested ? '; its running attempt was asked to stop' : ''}`]);
      return ExitCode.Ok;
    });
  },
};
