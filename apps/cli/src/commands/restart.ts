import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliEnv } from '../config/cli-env.js';
import { withSystem } from '../config/system.js';
import { writeJson, writeLines } from '../output/format.js';
import { RestartAction, restartJob } from '../operations/restart-job.js';

const EXPLAIN: Record<RestartAction, string> = {
  [RestartAction.AbortRequested]: 'its running attempt was asked to stop; the job goes back to the queue and resumes',
  [RestartAction.Requeued]: 'it was put back on the queue',
  [RestartAction.AwaitingStallCheck]: 'BullMQ still lists it active but no worker holds its lock: BullMQ\'s stalled check hands it back (within STALLED_INTERVAL_MS)',
};

/** `kai-jobs restart <id>` — restart an unfinished job from its checkpoint. */
export const restartCommand: CommandSpec = {
  name: 'restart',
  summary: 'restart an unfinished job from its last valid checkpoint',
  usage: 'restart <id> [--reason text] [--delay-ms ms] [--force] [--json]',
  description:
    'Restarts an unfinished job from its last valid checkpoint with the monitor\'s compare-and-set: the row goes back to ' +
    'pending with a new fence and one more restart only if nobody changed it meanwhile, so the old attempt can write ' +
    'nothing more. A running attempt is asked to stop and hand the job back; a job BullMQ is not running is re-added. ' +
    'The job type\'s restart limit holds here as in the monitor; --force restarts past it. ' +
    'Exit 1 when the job does not exist, has finished, has used its restart limit (without --force), or changed while restarting.',
  positionals: [{ name: 'id', required: true, description: 'the job id' }],
  options: {
    reason: { type: 'string', valueName: 'text', description: 'why (kept in the history; default "restarted by an operator")' },
    'delay-ms': { type: 'string', valueName: 'ms', value: { kind: 'int', min: 0 }, description: 'let it run again only after this long (default 0)' },
    force: { type: 'boolean', description: "restart even when the job has used its type's restart limit" },
  },
  examples: ['kai-jobs restart 3f0c…', 'kai-jobs restart 3f0c… --reason "provider outage over" --json'],
  async run({ io, json }, args) {
    const id = args.positional(0) as string;
    const reason = args.string('reason') ?? 'restarted by an operator';
    const delayMs = args.int('delay-ms', { min: 0 });
    const force = args.flag('force');
    return withSystem(parseCliEnv(io.env), async (system) => {
      const outcome = await restartJob(
        { statusStore: system.store, checkpointStore: system.store, client: system.client, redis: system.redis, prefix: system.config.redis.prefix },
        id,
        { reason, force, ...(delayMs === undefined ? {} : { delayMs }) },
      );
      if (json) writeJson(io.stdout, { ...outcome, restarted: true });
      else {
        writeLines(io.stdout, [
          `restarted ${outcome.type} job ${id} (restart ${outcome.restartCount}) ${outcome.checkpointStage === null ? 'from its first stage (no valid checkpoint)' : `from its checkpoint after ${outcome.checkpointStage}`}`,
          `${EXPLAIN[outcome.action]}`,
          `follow it: kai-jobs status ${id}`,
        ]);
      }
      return ExitCode.Ok;
    });
  },
};
