import type { installCliAlerts } from './process-alerts.js';

/**
 * Imports the process alerter's installer on demand. Only the long-running commands install it;
 * it loads @kai-jobs/monitor and the Sentry SDK, about half a second of start-up that the short
 * commands (status, list, enqueue) would otherwise pay. A module of its own because tsx cannot
 * parse a dynamic `import()` in a file that starts with a shebang (the binary).
 */
export async function loadCliAlerts(): Promise<typeof installCliAlerts> {
  const module = await import('./process-alerts.js');
  return module.installCliAlerts;
}
