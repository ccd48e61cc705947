import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliEnv } from '../config/cli-env.js';
import { writeJson, writeLines } from '../output/format.js';

/** `kai-jobs doctor` — checks a deployment, one line per check. */
export const doctorCommand: CommandSpec = {
  name: 'doctor',
  summary: 'check a deployment: Redis, eviction policy, persistence, workers, monitor, Sentry, Supabase, Firecrawl, LLM, embeddings',
  usage: 'doctor [--json]',
  description:
    'Checks what a working deployment needs, one line each with ok, warn or fail and what to do: Redis reachable; ' +
    'maxmemory-policy noeviction; persistence on (AOF or RDB); workers online per queue; the monitor\'s last tick (fail ' +
    'when older than 3 intervals); SENTRY_DSN set and a test event accepted (one is sent); Supabase reachable with the ' +
    'migrations applied when STATUS_STORE=supabase; Firecrawl, the materials LLM and the embeddings API, each when configured ' +
    '(FIRECRAWL_*, MATERIALS_LLM_*, EMBEDDINGS_*): reachable and the key accepted, by one cheap authenticated request (a ' +
    'credit or model lookup; nothing is generated). Exit 1 when any check fails, 0 otherwise (warnings included).',
  positionals: [],
  options: {},
  examples: ['kai-jobs doctor', 'kai-jobs doctor --json | jq ".checks[] | select(.status != \\"ok\\")"'],
  async run({ io, json }) {
    // Imported here: the checks load @kai-jobs/monitor, BullMQ and the Sentry SDK.
    const { runDoctor } = await import('../doctor/run-doctor.js');
    const report = await runDoctor(parseCliEnv(io.env), io.env);
    if (json) writeJson(io.stdout, report);
    else {
      const width = Math.max(...report.checks.map((c) => c.name.length));
      writeLines(io.stdout, [
        ...report.checks.flatMap((c) => [`${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.message}`, ...(c.fix === null ? [] : [`${' '.repeat(width + 8)}→ ${c.fix}`])]),
        '',
        `${report.counts.ok} ok, ${report.counts.warn} warn, ${report.counts.fail} fail`,
      ]);
    }
    return report.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};
