/**
 * `pnpm bench`: runs every benchmark (each in its own process, one after the other, so they
 * never share the machine), and writes `bench/results/latest.md` and `latest.json`: each
 * figure beside raw BullMQ (or the bare library) measured in the same run, as a ratio, with the
 * machine described and every target's verdict.
 * Options: --quick (smaller sizes, for a smoke run), --only=name,name, --merge (with --only:
 * keep the other benchmarks' sections of the existing report, so one benchmark can be re-run
 * on a quieter machine without re-running all; each section states when it ran).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeMachine } from './lib/machine.js';

interface BenchSpec {
  name: string;
  file: string;
  args: string[];
  quickArgs: string[];
  title: string;
}

const BENCHES: BenchSpec[] = [
  { name: 'runtime-throughput', file: 'runtime-throughput.bench.ts', args: ['--jobs=20000', '--runs=3'], quickArgs: ['--jobs=2000', '--runs=1'], title: 'Throughput of trivial jobs, Redis commands and CPU per job, enqueue' },
  { name: 'failover', file: 'failover.bench.ts', args: ['--kills=20', '--off-kills=3'], quickArgs: ['--kills=3', '--off-kills=1', '--off-lock-ms=2000'], title: 'Crash-to-resume time, fast failover on and off' },
  { name: 'hung-detection', file: 'hung-detection.bench.ts', args: ['--runs=10'], quickArgs: ['--runs=2'], title: 'Hung-job detection time' },
  { name: 'monitor-tick', file: 'monitor-tick.bench.ts', args: ['--runs=3'], quickArgs: ['--sizes=10000,100000', '--runs=1'], title: 'Monitor tick time against tracked jobs' },
  { name: 'idle-cost', file: 'idle-cost.bench.ts', args: ['--seconds=60'], quickArgs: ['--seconds=15', '--warmup=5'], title: 'Cost at rest: an idle worker and monitor (CPU, RSS, Redis commands) vs bare BullMQ workers' },
  { name: 'heartbeat-writes', file: 'heartbeat-writes.bench.ts', args: ['--sizes=10,100,1000'], quickArgs: ['--sizes=10,100'], title: 'Heartbeat writes per interval against active jobs' },
  { name: 'materials', file: 'materials.bench.ts', args: [], quickArgs: [], title: 'Real work: products and properties from catalogue PDFs, precision and recall against ground truth' },
  { name: 'pdf-text', file: 'pdf-text.bench.ts', args: [], quickArgs: [], title: 'Real work: PDF text extraction through the job vs pdf.js' },
  { name: 'render-soak', file: 'render-soak.bench.ts', args: ['--renders=1000'], quickArgs: ['--renders=200', '--scale=1'], title: 'Tile rendering: 1,000 renders on one never-recycled CPU-pool thread, crash and RSS slope' },
  { name: 'render-cores', file: 'render-cores.bench.ts', args: ['--pages=100', '--rounds=2'], quickArgs: ['--pages=20', '--rounds=1'], title: 'Tile rendering on every core: pool of 1 vs pool of cores, beside bare pdf.js' },
  { name: 'pdf-e2e', file: 'pdf-e2e.bench.ts', args: ['--pages=100,500'], quickArgs: ['--pages=20,60'], title: 'Real work: a PDF through all five stages vs a bare script, pages/s and peak RSS' },
  { name: 'pdf-text-quality', file: 'pdf-text-quality.bench.ts', args: [], quickArgs: [], title: 'PDF text quality: word and order recall on the PDF text test set' },
  { name: 'xml-import', file: 'xml-import.bench.ts', args: [], quickArgs: ['--mb=20', '--runs=1'], title: 'Real work: XML import vs the bare streaming parse into Redis and PostgreSQL; peak RSS of a 100 MB feed' },
  { name: 'scrape', file: 'scrape.bench.ts', args: [], quickArgs: [], title: 'Real work: crawling a 500-page local site vs a bare fetch loop' },
  { name: 'cli-status', file: 'cli-status.bench.ts', args: ['--runs=15'], quickArgs: ['--runs=3'], title: 'kai-jobs status: start to exit, compiled vs sources' },
  { name: 'worker-rss', file: 'worker-rss.bench.ts', args: ['--jobs=100000'], quickArgs: ['--jobs=10000'], title: 'Worker RSS over 100,000 jobs' },
];

const quick = process.argv.includes('--quick');
const merge = process.argv.includes('--merge');
const only = process.argv.find((a) => a.startsWith('--only='))?.split('=')[1]?.split(',');
const here = fileURLToPath(new URL('.', import.meta.url));

interface BenchOutcome {
  name: string;
  /** When it ran (ISO time of its start). */
  ranAt?: string;
  title: string;
  command: string;
  durationS: number;
  exitCode: number;
  text: string;
  data: unknown;
}

function run(spec: BenchSpec): Promise<BenchOutcome> {
  const args = ['--import', 'tsx', `${here}${spec.file}`, ...(quick ? spec.quickArgs : spec.args)];
  const started = Date.now();
  const ranAt = new Date(started).toISOString();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[${spec.name}] ${chunk.toString()}`));
    child.on('exit', (code) => {
      const lines = out.trimEnd().split('\n');
      let data: unknown = null;
      for (let i = lines.length - 1; i >= 0; i--) {
        const line = (lines[i] as string).trim();
        if (line.startsWith('{') && line.endsWith('}')) {
          try {
            data = JSON.parse(line);
            lines.splice(i, 1);
            break;
          } catch {
            // not the result line
          }
        }
      }
      resolve({
        name: spec.name,
        ranAt,
        title: spec.title,
        command: `pnpm tsx bench/${spec.file} ${(quick ? spec.quickArgs : spec.args).join(' ')}`.trim(),
        durationS: Math.round((Date.now() - started) / 100) / 10,
        exitCode: code ?? 1,
        text: lines.filter((line) => !/^\s*at |ECONNREFUSED|Unhandled error event/.test(line)).join('\n').trim(),
        data,
      });
    });
  });
}

function machine(): Record<string, string> {
  return { ...describeMachine(), mode: quick ? 'quick (reduced sizes: a smoke run, not the report)' : 'full' };
}

const selected = BENCHES.filter((spec) => only === undefined || only.includes(spec.name));
if (only !== undefined && selected.length !== only.length) {
  const unknown = only.filter((name) => !BENCHES.some((spec) => spec.name === name));
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHES.map((spec) => spec.name).join(', ')}\n`);
  process.exit(2);
}
const host = machine();
const fresh = new Map<string, BenchOutcome>();
for (const spec of selected) {
  process.stderr.write(`\n=== ${spec.name} ===\n`);
  fresh.set(spec.name, await run(spec));
}
/** With --merge, the existing report's sections of the benchmarks not re-run now, in the usual order. */
function previousOutcomes(): Map<string, BenchOutcome> {
  const file = `${here}results/latest.json`;
  if (!merge || !existsSync(file)) return new Map();
  const previous = JSON.parse(readFileSync(file, 'utf8')) as { machine: Record<string, string>; benches: BenchOutcome[] };
  if (previous.machine['mode'] !== host['mode']) {
    process.stderr.write(`--merge: the existing report is a ${previous.machine['mode']} run, this one ${host['mode']}: not merged\n`);
    return new Map();
  }
  return new Map(previous.benches.map((outcome) => [outcome.name, { ...outcome, ranAt: outcome.ranAt ?? previous.machine['date'] ?? 'unknown' }]));
}
const kept = previousOutcomes();
const outcomes = BENCHES.map((spec) => fresh.get(spec.name) ?? kept.get(spec.name)).filter((outcome): outcome is BenchOutcome => outcome !== undefined);

const md = [
  '# kai-jobs benchmark report',
  '',
  'Written by `pnpm bench` (`bench/run-all.ts`). Every benchmark runs alone, in its own process; figures',
  'are compared with raw BullMQ or the bare library measured in the same run, as ratios. See',
  '`bench/README.md` for what each one measures and why a missed target misses.',
  '',
  '## Machine',
  '',
  ...Object.entries(host).map(([key, value]) => `- ${key}: ${value}`),
  '',
  ...outcomes.flatMap((outcome) => [
    `## ${outcome.title}`,
    '',
    `\`${outcome.command}\` — ${outcome.durationS} s${outcome.ranAt ? `, ran ${outcome.ranAt}` : ''}${outcome.exitCode === 0 ? '' : ` — **exited with ${outcome.exitCode}**`}`,
    '',
    outcome.text,
    '',
  ]),
].join('\n');

mkdirSync(`${here}results`, { recursive: true });
writeFileSync(`${here}results/latest.md`, `${md}\n`);
writeFileSync(`${here}results/latest.json`, `${JSON.stringify({ machine: host, benches: outcomes }, null, 2)}\n`);
process.stderr.write(`\nwrote bench/results/latest.md and latest.json\n`);
if (outcomes.some((outcome) => outcome.exitCode !== 0)) process.exitCode = 1;
