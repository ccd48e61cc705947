/**
 * `@kai-jobs/cli` — the `kai-jobs` operator command. The binary is `src/bin/kai-jobs.ts`;
 * `runCli` runs a command line in-process (tests, embedding) and returns its exit code.
 */
export { COMMON_OPTIONS, parseCommandArgs, ParsedArgs } from './cli/args.js';
export type { CliIo, CommandContext, CommandSpec, OptionSpec, OutputStream, PositionalSpec } from './cli/command.js';
export { CliErrorCode, CommandFailedError, UsageError } from './cli/errors.js';
export { ExitCode } from './cli/exit-codes.js';
export { commandHelp, mainHelp } from './cli/help.js';
export { cliVersion, runCli } from './cli/run-cli.js';
export { closestMatch, editDistance } from './cli/suggest.js';
export { COMMANDS } from './commands/registry.js';
export { buildPayload, checkFlagsApply, FLAG_OF_FIELD, PAYLOAD_OPTIONS } from './commands/enqueue-payload.js';
export { checkpointsHeading, jobActivity } from './commands/job-activity.js';
export type { JobActivity } from './commands/job-activity.js';
export { inspectCheckpoints } from './commands/job-inspection.js';
export type { CheckpointReport, CheckpointSummary } from './commands/job-inspection.js';
export { waitForJob } from './commands/wait-for-job.js';
export type { WaitForJobOptions, WaitOutcome } from './commands/wait-for-job.js';
export { envValue, parseCliEnv } from './config/cli-env.js';
export type { CliEnvConfig, Environment } from './config/cli-env.js';
export { monitorSettings } from './config/monitor-settings.js';
export type { MonitorSettings } from './config/monitor-settings.js';
export { openSystem, withSystem } from './config/system.js';
export { sharedJobStore } from './config/shared-store-set.js';
export type { CliSystem } from './config/system.js';
export { check, CheckStatus } from './doctor/check-types.js';
export type { CheckResult } from './doctor/check-types.js';
export { runDoctor } from './doctor/run-doctor.js';
export type { DoctorReport } from './doctor/run-doctor.js';
export { RestartAction, restartJob } from './operations/restart-job.js';
export type { RestartDeps, RestartOutcome } from './operations/restart-job.js';
export { formatDuration, formatLabelledValue, formatPercent, formatReadable, formatTable, formatTime, inlineFields, writeJson } from './output/format.js';
export { progressBar, progressLine, shouldPrintPlain } from './output/progress-bar.js';
export type { ProgressSnapshot } from './output/progress-bar.js';
export { createCommandLogger, LogFormat, prettyLogLine } from './run/logging.js';
