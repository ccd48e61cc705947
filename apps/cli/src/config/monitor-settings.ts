import {
  MonitorOptionsSchema,
  parseMonitorEnv,
  typeSettings,
  type MonitorEnvConfig,
  type ResolvedMonitorOptions,
  type TypeMonitorSettings,
} from '@kai-jobs/monitor';
import { JOB_TYPES, type JobType } from '@kai-jobs/queue';
import type { Environment } from './cli-env.js';

/** The monitor's configuration from the environment, resolved (thresholds per type included). */
export interface MonitorSettings {
  env: MonitorEnvConfig;
  resolved: ResolvedMonitorOptions;
  /** Effective thresholds and recovery of each type: the catalog's defaults with the overrides. */
  types: Record<JobType, TypeMonitorSettings>;
}

/**
 * The thresholds the monitor runs with, read the way the monitor reads them
 * (`PDF_HEARTBEAT_TIMEOUT_MS`, `PDF_UPDATE_TIMEOUT_MS`, …), so `list --stuck` and
 * `thresholds` judge jobs exactly as the monitor does.
 */
export function monitorSettings(env: Environment): MonitorSettings {
  const parsed = parseMonitorEnv(env);
  const resolved = MonitorOptionsSchema.parse({ ...parsed.monitor, redis: parsed.redis });
  const types = Object.fromEntries(JOB_TYPES.map((type) => [type, typeSettings(resolved, type)])) as Record<JobType, TypeMonitorSettings>;
  return { env: parsed, resolved, types };
}
