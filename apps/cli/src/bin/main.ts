/**
 * The `kai-jobs` binary's body (src/bin/kai-jobs.ts loads it on demand, see there): runs one
 * command line and exits the process with its code.
 */
import type { ProcessAlerter } from '@kai-jobs/monitor';
import { toError } from '@kai-jobs/queue';
import { runCli } from '../cli/run-cli.js';
import { COMMANDS } from '../commands/registry.js';
import { createCommandLogger } from '../run/logging.js';
import { loadCliAlerts } from '../run/load-process-alerts.js';
import { installStopSignals } from '../run/stop-signals.js';

/** Runs the command line `argv` (without node and the script) in this process and exits with its code. */
export async function runBinary(argv: readonly string[]): Promise<never> {
  const controller = new AbortController();
  const spec = COMMANDS.find((command) => command.name === argv[0]);
  let alerts: ProcessAlerter | null = null;
  if (spec?.handlesSignals === true) {
    let logger;
    try {
      logger = createCommandLogger(process.env, process.stderr, 'kai-jobs', argv.includes('--json'));
    } catch {
      // A bad LOG_LEVEL/LOG_FORMAT: the command itself reports it and exits 2.
      logger = undefined;
    }
    installStopSignals({
      controller,
      exit: (code) => process.exit(code),
      // pnpm and npm set npm_lifecycle_event for the scripts they run.
      watchParent: process.env['npm_lifecycle_event'] !== undefined,
      // A closed terminal or a dead parent's pipe must not turn the graceful shutdown into a
      // crash on the next log line.
      onStop: () => {
        process.stdout.on('error', () => undefined);
        process.stderr.on('error', () => undefined);
      },
      ...(logger === undefined ? {} : { logger }),
    });
    // Imported only here: the alerter loads @kai-jobs/monitor and the Sentry SDK, which the
    // short commands (status, list, enqueue) do not need and would pay ~0.5 s of start-up for.
    const installCliAlerts = await loadCliAlerts();
    try {
      alerts = installCliAlerts(process.env, spec.name, (code) => process.exit(code));
    } catch (error) {
      process.stderr.write(`kai-jobs: ${toError(error).message}\nFix SENTRY_DSN (or unset it to log alerts only).\n`);
      process.exit(2);
    }
  }
  const code = await runCli(COMMANDS, argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stopSignal: controller.signal,
    cwd: process.cwd(),
    ...(alerts === null ? {} : { reportFailure: (error: Error, command: string) => (alerts as ProcessAlerter).reportFatal(error, { command }) }),
  });
  await alerts?.close();
  // Writes to pipes and files are synchronous on Linux and macOS, so nothing is cut off.
  process.exit(code);
}
