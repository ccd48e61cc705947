import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AttemptOutcome, attemptTags, type AttemptRecord } from '@kai-jobs/workers';
import { DASHBOARD_FILE, importDashboard } from '../../scripts/import-sentry-dashboard.js';

interface Widget {
  title: string;
  widgetType: string;
  queries: { columns: string[]; aggregates: string[]; fields: string[]; conditions: string }[];
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { title: string; widgets: Widget[] };
const sample: AttemptRecord = {
  jobId: 'j',
  type: 'pdf',
  workerId: 'w',
  attempt: 1,
  restartCount: 0,
  startedAt: 0,
  endedAt: 1,
  outcome: 'completed',
  stage: null,
  error: null,
  drill: false,
  stages: [],
};
/** Fields the dashboard may use: the attempt transactions' tags, Sentry's own fields, and the alerts' `error_type`. */
const KNOWN_FIELDS = new Set([...Object.keys(attemptTags(sample)), 'transaction.op', 'transaction.duration', 'span.op', 'span.description', 'span.duration', 'error_type']);
const STUCK_ALERT_TYPES = ['stuck_job', 'stuck_scraping_session', 'stuck_import_job'];

describe('the Sentry dashboard definition (ops/sentry/dashboard.json)', () => {
  it('charts every figure the platform asks for, from the tags the workers and alerts really send', () => {
    const titles = dashboard.widgets.map((widget) => widget.title.toLowerCase());
    for (const figure of ['error rate by job type', 'stuck jobs', 'recovery success rate', 'processing time', 'failures by stage']) {
      expect(titles.some((title) => title.includes(figure)), figure).toBe(true);
    }
    const outcomes = new Set<string>(Object.values(AttemptOutcome));
    for (const widget of dashboard.widgets) {
      for (const query of widget.queries) {
        for (const column of query.columns) expect(KNOWN_FIELDS.has(column), `${widget.title}: column ${column}`).toBe(true);
        for (const [, field, values] of query.conditions.matchAll(/([a-z_.]+):(\[[^\]]*\]|\S+)/g)) {
          expect(KNOWN_FIELDS.has(field as string), `${widget.title}: condition on ${field}`).toBe(true);
          const listed = (values as string).replace(/^\[|\]$/g, '').split(',');
          if (field === 'outcome') for (const value of listed) expect(outcomes.has(value), `${widget.title}: outcome ${value}`).toBe(true);
          if (field === 'error_type') expect(listed).toEqual(STUCK_ALERT_TYPES);
        }
        expect(query.fields).toEqual([...query.columns, ...query.aggregates]);
      }
    }
  });

  it('is imported with one POST to the organization dashboards API, with the token and the project', async () => {
    const requests: { method: string; url: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push({ method: request.method ?? '', url: request.url ?? '', auth: request.headers.authorization, body: JSON.parse(body) as Record<string, unknown> });
        response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: '42' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const result = await importDashboard({ sentryUrl: `http://127.0.0.1:${port}/`, org: 'material-kai', token: 'test-token-not-a-secret', projectId: 7 });
      expect(result).toEqual({ id: '42', url: `http://127.0.0.1:${port}/organizations/material-kai/dashboard/42/` });
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ method: 'POST', url: '/api/0/organizations/material-kai/dashboards/', auth: 'Bearer test-token-not-a-secret' });
      expect(requests[0]?.body).toMatchObject({ title: dashboard.title, projects: [7] });
      expect((requests[0]?.body['widgets'] as unknown[]).length).toBe(dashboard.widgets.length);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
