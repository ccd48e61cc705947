/**
 * The root README's configuration table against the schemas and lists the entry points really
 * read, so the table cannot drift: every variable any entry point reads has a row, every row
 * names a variable something reads, the "read by" letters match the worker's, monitor's and
 * board's own schemas, and a default the schema sets is the default the row shows.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BOARD_ENV_VARIABLES } from '@kai-jobs/board';
import { RETENTION_ENV_VARIABLES, STORE_ENV_VARIABLES } from '@kai-jobs/queue';
import { MonitorEnvSchema, SentryEnvSchema } from '@kai-jobs/monitor';
import { WorkerEnvSchema } from '@kai-jobs/workers';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** Variables only the `kai-jobs` command reads, outside any schema (with where). */
const CLI_ONLY: Record<string, string> = {
  LOG_FORMAT: 'apps/cli/src/run/logging.ts',
};

interface Row {
  names: string[];
  defaults: string;
  readBy: string;
  line: string;
}

/** The rows of the table under `## Configuration`. */
function configurationRows(markdown: string): Row[] {
  const start = markdown.indexOf('\n## Configuration\n');
  expect(start, 'the README has a "## Configuration" section').toBeGreaterThan(0);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end);
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
    const names = [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1] as string);
    rows.push({ names, defaults: cells[1] ?? '', readBy: cells[2] ?? '', line });
  }
  return rows;
}

/** The default a zod field gives an unset variable, as a string; undefined when it has none. */
function schemaDefault(field: z.ZodType): string | undefined {
  const parsed = field.safeParse(undefined);
  return parsed.success && parsed.data !== undefined ? String(parsed.data) : undefined;
}

const retentionVariables = Object.keys(RETENTION_ENV_VARIABLES);
const STORE_RETENTION = ['KAI_RETENTION_FINISHED', 'KAI_RETENTION_CHECKPOINTS', 'KAI_RETENTION_HISTORY_ENTRIES'];
const BULLMQ_RETENTION = retentionVariables.filter((name) => name.startsWith('KAI_RETENTION_BULLMQ_'));
const ARTIFACT_RETENTION = retentionVariables.filter((name) => !STORE_RETENTION.includes(name) && !BULLMQ_RETENTION.includes(name));
for (const name of BULLMQ_RETENTION) CLI_ONLY[name] = 'apps/cli/src/config/system.ts';

const markdown = readFileSync(README, 'utf8');
const rows = configurationRows(markdown);
const rowOf = new Map(rows.flatMap((row) => row.names.map((name) => [name, row] as const)));
const sources = {
  // KAI_RETENTION_*: one module parses them (`parseRetentionEnv`); the worker uses the store and
  // artifact ones, the monitor the store ones, the CLI's enqueue the BullMQ ones.
  W: new Set([...Object.keys(WorkerEnvSchema.shape), ...STORE_ENV_VARIABLES, ...STORE_RETENTION, ...ARTIFACT_RETENTION]),
  M: new Set([...Object.keys(MonitorEnvSchema.shape), ...STORE_ENV_VARIABLES, ...STORE_RETENTION]),
  B: new Set<string>(BOARD_ENV_VARIABLES),
};
const everyRead = new Set([...sources.W, ...sources.M, ...sources.B, ...Object.keys(SentryEnvSchema.shape), ...Object.keys(CLI_ONLY)]);

/** True when the row's "read by" cell covers `who` (a letter, or `all`). */
function covers(row: Row, who: 'W' | 'M' | 'B'): boolean {
  return /\ball\b|STATUS_STORE=supabase/.test(row.readBy) || new RegExp(`(^|[ ,])${who}([ ,]|$)`).test(row.readBy);
}

describe("the README's configuration table", () => {
  it('is the only configuration table, and every row has a variable', () => {
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.filter((row) => row.names.length === 0)).toEqual([]);
    const duplicated = [...everyRead].filter((name) => rows.filter((row) => row.names.includes(name)).length > 1);
    expect(duplicated, 'variables with more than one row').toEqual([]);
  });

  it('lists every variable an entry point reads, and only those', () => {
    const listed = new Set(rowOf.keys());
    expect([...everyRead].filter((name) => !listed.has(name)).sort(), 'read but missing from the table').toEqual([]);
    expect([...listed].filter((name) => !everyRead.has(name)).sort(), 'in the table but read by nothing').toEqual([]);
  });

  it("says who reads each variable as the worker's, monitor's and board's schemas do", () => {
    for (const who of ['W', 'M', 'B'] as const) {
      const wrong = [...sources[who]].filter((name) => rowOf.get(name) !== undefined && !covers(rowOf.get(name) as Row, who));
      expect(wrong, `read by ${who} but its row does not say so`).toEqual([]);
    }
    const claimedByWorker = rows.filter((row) => /(^|[ ,])W([ ,]|$)/.test(row.readBy)).flatMap((row) => row.names);
    expect(claimedByWorker.filter((name) => !sources.W.has(name)), 'rows saying W for a variable the worker does not read').toEqual([]);
  });

  it('shows the default each schema sets', () => {
    const schemas = [WorkerEnvSchema, MonitorEnvSchema, SentryEnvSchema];
    for (const schema of schemas) {
      for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
        const expected = schemaDefault(field);
        const row = rowOf.get(name);
        if (expected === undefined || row === undefined) continue;
        // A row of several variables lists their defaults in the same order, comma-separated.
        const shown = row.names.length === 1 ? row.defaults : row.defaults.split(/,\s*/)[row.names.indexOf(name)];
        expect(shown, `${name}: ${row.line}`).toMatch(new RegExp(`^\`${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\``));
      }
    }
  });

  it('links only to files inside the repository', () => {
    const links = [...markdown.matchAll(/\]\(([^)#]+)[^)]*\)/g)].map((match) => match[1] as string).filter((target) => !/^[a-z]+:/.test(target));
    expect(links.filter((target) => target.startsWith('../') || target.startsWith('/')), 'links leaving the repository').toEqual([]);
  });
});
