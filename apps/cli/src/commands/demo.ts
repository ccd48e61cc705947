import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliEnv } from '../config/cli-env.js';
import { withSystem } from '../config/system.js';
import { writeJson } from '../output/format.js';
import { requireRedis } from '../run/redis-probe.js';

/** `kai-jobs demo` — `pnpm demo`. */
export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'against a running system: sample work of each type, then a worker killed mid-PDF and the job resuming',
  usage: 'demo [--pages n] [--products n] [--step-timeout-ms ms] [--json]',
  description:
    'Runs against a running system ("SCRAPE_ALLOW=127.0.0.1 pnpm start" in another terminal, same REDIS_URL and ' +
    'KAI_PREFIX). Enqueues real sample work — a generated PDF catalogue, a crawl of a small shop the demo serves on ' +
    '127.0.0.1, a generated XML feed — and waits for each. Then it starts a worker process of its own, gives it a long ' +
    'PDF, kills it with SIGKILL in the middle of rendering tiles, and shows the job resuming from its checkpoint on ' +
    'another worker and completing — narrated here, visible on the board. Exit 0 when the crashed job resumed from its ' +
    'checkpoint and completed, 1 otherwise.',
  handlesSignals: true,
  positionals: [],
  options: {
    pages: { type: 'string', valueName: 'n', value: { kind: 'int', min: 4, max: 400 }, description: 'pages of the PDF that is crashed (default 60)' },
    products: { type: 'string', valueName: 'n', value: { kind: 'int', min: 1, max: 5000 }, description: 'products in the sample feed (default 500)' },
    'step-timeout-ms': { type: 'string', valueName: 'ms', value: { kind: 'int', min: 1000 }, description: 'give up on a step after this long (default 300000)' },
  },
  examples: ['pnpm demo', 'KAI_PREFIX=staging kai-jobs demo --pages 120', 'kai-jobs demo --json | jq .crash'],
  async run({ io, json }, args) {
    const crashPages = args.int('pages', { min: 4, max: 400 }) ?? 60;
    const feedProducts = args.int('products', { min: 1, max: 5000 }) ?? 500;
    const stepTimeoutMs = args.int('step-timeout-ms', { min: 1000 }) ?? 300_000;
    const config = parseCliEnv(io.env);
    await requireRedis(config.redis, 'pnpm demo');
    const { runDemo } = await import('../demo/run-demo.js');
    const started = Date.now();
    const out = json ? io.stderr : io.stdout;
    const say = (line: string): void => {
      out.write(line === '' ? '\n' : `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
    };
    return withSystem(config, async (system) => {
      const report = await runDemo(system, io.env, { crashPages, feedProducts, stepTimeoutMs, signal: io.stopSignal, say });
      if (json) writeJson(io.stdout, report);
      return report.resumedFromCheckpoint ? ExitCode.Ok : ExitCode.Failed;
    });
  },
};
