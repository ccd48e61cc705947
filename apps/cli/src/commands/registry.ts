import type { CommandSpec } from '../cli/command.js';
import { boardCommand } from './board.js';
import { cancelCommand } from './cancel.js';
import { checkpointsCommand } from './checkpoints.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { drillCommand } from './drill.js';
import { enqueueCommand } from './enqueue.js';
import { listCommand } from './list.js';
import { monitorCommand } from './monitor.js';
import { restartCommand } from './restart.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { thresholdsCommand } from './thresholds.js';
import { workerCommand } from './worker.js';

/** Every `kai-jobs` command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  enqueueCommand,
  statusCommand,
  listCommand,
  restartCommand,
  cancelCommand,
  checkpointsCommand,
  monitorCommand,
  drillCommand,
  thresholdsCommand,
  doctorCommand,
  workerCommand,
  boardCommand,
  startCommand,
  demoCommand,
];
