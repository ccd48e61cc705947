import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { sharedJobStore } from '../config/shared-store-set.js';
import { writeJson, writeLines } from '../output/format.js';
import { createCommandLogger } from '../run/logging.js';
import { untilStopped } from '../run/until-stopped.js';

/** `kai-jobs worker` — a worker process. */
export const workerCommand: CommandSpec = {
  name: 'worker',
  summary: 'run a worker process (WORKER_TYPES, default all three) until SIGTERM',
  usage: 'worker [--json]',
  description:
    'Runs the job processors of WORKER_TYPES (default pdf,scrape,xml-import) until SIGTERM or SIGINT, then shuts down ' +
    'gracefully: no new jobs, running stages get SHUTDOWN_GRACE_MS to reach their checkpoint, unfinished jobs go back ' +
    'to the queue at once. Configured by the worker\'s environment variables (README: configuration). Logs go to ' +
    'stderr (LOG_FORMAT json or pretty); stdout gets one ready line, or with --json one JSON document.',
  handlesSignals: true,
  positionals: [],
  options: {},
  examples: ['kai-jobs worker', 'WORKER_TYPES=pdf WORKER_CONCURRENCY=4 kai-jobs worker', 'SCRAPE_ALLOW=127.0.0.1 kai-jobs worker --json'],
  async run({ io, json }) {
    const { startWorkerService } = await import('../run/worker-service.js');
    const logger = createCommandLogger(io.env, io.stderr, 'kai-worker', json);
    const stores = sharedJobStore(io.env, logger);
    const service = await startWorkerService(io.env, logger, stores);
    const ready = { ready: true, workerId: service.runtime.workerId, types: service.config.types, pid: process.pid };
    logger.info('worker ready', { workerId: ready.workerId, types: ready.types });
    if (json) writeJson(io.stdout, ready);
    else writeLines(io.stdout, [`worker ${ready.workerId} ready: ${ready.types.join(', ')} (Ctrl-C stops it gracefully)`]);
    await untilStopped(io.stopSignal);
    logger.info('stopping the worker gracefully', {});
    await service.shutdown();
    await stores?.close();
    await logger.flush();
    return ExitCode.Ok;
  },
};
