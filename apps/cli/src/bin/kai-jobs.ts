#!/usr/bin/env -S node --import tsx
/**
 * The `kai-jobs` command (`pnpm kai-jobs …` from the repository root). Runs one command
 * line and exits with its code: 0 ok, 1 failed, 2 bad usage or configuration. Commands that
 * run until stopped (worker, monitor, board, start, demo, enqueue --wait) stop gracefully on
 * the first SIGINT, SIGTERM or SIGHUP (exit 0), and — when a package-manager script started
 * them — when their parent (pnpm) goes away. A signal within 1 s of the first is the same
 * request delivered twice (a process-group signal that pnpm also relays) and is ignored; a
 * signal after that exits at once with 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
 * Those commands also install the process-wide alerter (SENTRY_DSN), so the module-level
 * `captureException` and `captureMessage` of @kai-jobs/monitor report to Sentry; a failure that
 * ends them (exit 1) and an uncaught error are reported before the process exits.
 *
 * Start-up: on Node ≥ 22.1 (the image) V8's compile cache is switched on before the command's
 * code is loaded (start-binary.ts); that code is one esbuild bundle (scripts/build.mjs).
 */
import { startBinary } from './start-binary.js';

await startBinary(process.argv.slice(2));
