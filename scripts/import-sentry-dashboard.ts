/**
 * Creates the kai-jobs dashboard (ops/sentry/dashboard.json) in a Sentry organization through
 * Sentry's API (`POST /api/0/organizations/{org}/dashboards/`):
 *
 *   SENTRY_AUTH_TOKEN=… SENTRY_ORG=my-org pnpm sentry:dashboard
 *
 * `SENTRY_AUTH_TOKEN` needs the `org:write` scope (a secret: environment only). `SENTRY_URL`
 * (default `https://sentry.io`) for self-hosted Sentry; `SENTRY_PROJECT_ID` limits the
 * dashboard to one project. Prints the new dashboard's URL.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The dashboard definition shipped with the repository. */
export const DASHBOARD_FILE = fileURLToPath(new URL('../ops/sentry/dashboard.json', import.meta.url));

/** What {@link importDashboard} needs. */
export interface ImportDashboardOptions {
  /** `https://sentry.io` or a self-hosted Sentry's address. */
  sentryUrl: string;
  org: string;
  token: string;
  /** Limits the dashboard to this project (its numeric id). */
  projectId?: number;
  /** The definition; default {@link DASHBOARD_FILE}. */
  dashboard?: Record<string, unknown>;
  fetch?: typeof fetch;
}

/** Posts the dashboard; resolves with its id and URL, rejects with Sentry's answer when refused. */
export async function importDashboard(options: ImportDashboardOptions): Promise<{ id: string; url: string }> {
  const dashboard = options.dashboard ?? (JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Record<string, unknown>);
  const body = { ...dashboard, ...(options.projectId === undefined ? {} : { projects: [options.projectId] }) };
  const base = options.sentryUrl.replace(/\/+$/, '');
  const response = await (options.fetch ?? fetch)(`${base}/api/0/organizations/${encodeURIComponent(options.org)}/dashboards/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Sentry refused the dashboard (HTTP ${response.status}): ${text.slice(0, 500)}`);
  const { id } = JSON.parse(text) as { id: string };
  return { id, url: `${base}/organizations/${options.org}/dashboard/${id}/` };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const token = process.env['SENTRY_AUTH_TOKEN'];
  const org = process.env['SENTRY_ORG'];
  if (!token || !org) {
    process.stderr.write('set SENTRY_AUTH_TOKEN (scope org:write) and SENTRY_ORG (and SENTRY_URL for self-hosted Sentry)\n');
    process.exit(2);
  }
  const projectId = process.env['SENTRY_PROJECT_ID'];
  try {
    const { url } = await importDashboard({
      sentryUrl: process.env['SENTRY_URL'] ?? 'https://sentry.io',
      org,
      token,
      ...(projectId ? { projectId: Number(projectId) } : {}),
    });
    process.stdout.write(`dashboard created: ${url}\n`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
