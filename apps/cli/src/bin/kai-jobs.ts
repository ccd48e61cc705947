#!/usr/bin/env -S node --import tsx
/**
 * The `kai-jobs` command (`pnpm kai-jobs …` from the repository root). Runs one command
 * line and exits with its code: 0 ok, 1 failed, 2 bad usage or configuration. Commands that
 * run until stopped (worker, monitor, board, start, demo, enqueue --wait) stop gracefully on
 * the first SIGTERM/SIGINT; a second one exits at once with 130.
 */
import { runCli } from '../cli/run-cli.js';
import { COMMANDS } from '../commands/registry.js';

const argv = process.argv.slice(2);
const controller = new AbortController();
const spec = COMMANDS.find((command) => command.name === argv[0]);
if (spec?.handlesSignals === true) {
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
const code = await runCli(COMMANDS, argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stopSignal: controller.signal,
  cwd: process.cwd(),
});
// Writes to pipes and files are synchronous on Linux and macOS, so nothing is cut off.
process.exit(code);
