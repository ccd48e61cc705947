import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatePayload } from '@kai-jobs/queue';
import {
  buildPayload,
  closestMatch,
  COMMANDS,
  commandHelp,
  formatDuration,
  formatLabelledValue,
  formatPercent,
  formatReadable,
  parseCommandArgs,
  prettyLogLine,
  progressBar,
  shouldPrintPlain,
  writeJson,
  type CommandSpec,
} from '../src/index.js';
import { Buffered, kaiJobs, tempDir } from './support.js';

const spec = (name: string): CommandSpec => COMMANDS.find((command) => command.name === name) as CommandSpec;
// Nothing here reaches Redis: every case is refused before a connection is opened.
const NO_REDIS = { REDIS_URL: 'redis://127.0.0.1:1', KAI_PREFIX: 'kt-cli-unit' };

describe('bad usage: exit 2 and a message that says what was meant', () => {
  it.each([
    [['lisst'], /unknown command "lisst" — did you mean "list"\?/],
    [['staus', 'x'], /did you mean "status"/],
    [['list', '--stuk'], /unknown flag --stuk for "kai-jobs list" — did you mean --stuck\?/],
    [['enqueue', 'pdf', '--prioriy', '1'], /did you mean --priority\?/],
    [['status'], /missing <id>: usage is "kai-jobs status <id>/],
    [['status', 'a', 'b'], /unexpected argument "b"/],
    [['enqueue', 'pfd'], /unknown job type "pfd"; expected pdf, scrape, xml-import \(did you mean pdf\?\)/],
    [['enqueue', 'pdf', '--session-id', 's'], /--session-id does not apply to pdf jobs; pdf takes --document-id/],
    [['enqueue', 'pdf', '--path', 'a.pdf', '--url', 'https://x.example/a.pdf'], /give one input source, not --path and --url/],
    [['list', '--limit', 'ten'], /--limit expects a whole number from 1 to 10000, got "ten"/],
    [['list', '--type', 'pdfs'], /--type must be one of pdf, scrape, xml-import; got "pdfs" \(did you mean pdf\?\)/],
    [['list', '--stuck', '--status', 'failed'], /--stuck lists unfinished jobs of any status; drop --status/],
    [['enqueue', 'pdf', '--priority'], /argument missing/],
    [['enqueue', 'pdf', '--timeout-ms', '5'], /--timeout-ms only applies with --wait/],
  ])('kai-jobs %j', async (argv, message) => {
    const run = await kaiJobs(argv, NO_REDIS);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Run "kai-jobs .*--help" for usage\./);
    expect(run.stdout).toBe('');
  });

  it('with --json the error is one JSON document on stdout', async () => {
    const run = await kaiJobs(['list', '--limt', '3', '--json'], NO_REDIS);
    expect(run.code).toBe(2);
    expect(run.json()).toEqual({
      error: { name: 'UsageError', code: 'USAGE', message: 'unknown flag --limt for "kai-jobs list" — did you mean --limit?', hint: 'Run "kai-jobs list --help" for usage.' },
      exitCode: 2,
    });
    expect(run.stderr).toBe('');
  });

  it('a malformed environment is bad usage too, naming the variable', async () => {
    const run = await kaiJobs(['list'], { REDIS_URL: 'http://127.0.0.1:6379' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Redis URL "http:\/\/127.0.0.1:6379" has scheme "http"; expected redis:\/\/ or rediss:\/\//);
    const store = await kaiJobs(['list', '--json'], { ...NO_REDIS, STATUS_STORE: 'supabase' });
    expect(store.code).toBe(2);
    expect(store.json<{ error: { message: string } }>().error.message).toMatch(/^STATUS_STORE=supabase: SUPABASE_URL is not set .*; SUPABASE_SERVICE_ROLE_KEY is not set/);
  });

  it('no command prints the help on stderr with exit 2; --help and help <command> exit 0', async () => {
    const none = await kaiJobs([], NO_REDIS);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: kai-jobs <command>');
    const help = await kaiJobs(['--help'], NO_REDIS);
    expect(help.code).toBe(0);
    for (const command of COMMANDS) expect(help.stdout).toContain(`  ${command.name}`);
    const one = await kaiJobs(['help', 'restart'], NO_REDIS);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('Usage: kai-jobs restart <id>');
    expect((await kaiJobs(['help', 'restrat'], NO_REDIS)).stderr).toMatch(/did you mean "restart"/);
  });
});

describe('flag values: negative numbers get the CLI\'s message, every bad flag is reported at once', () => {
  it.each([
    [['enqueue', 'pdf', '--priority', '-1'], '--priority expects a whole number from 1 to 2097152, got "-1"'],
    [['list', '--limit', '-5'], '--limit expects a whole number from 1 to 10000, got "-5"'],
    [['status', 'x', '--history', '-3'], '--history expects a whole number from 1 to 10000, got "-3"'],
    [['restart', 'x', '--delay-ms', '-0.5'], '--delay-ms expects a whole number of at least 0, got "-0.5"'],
    [['enqueue', 'pdf', '--render-scale', '-2'], '--render-scale expects a number of at least 0, got "-2"'],
  ])('kai-jobs %j', async (argv, message) => {
    const run = await kaiJobs(argv, NO_REDIS);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`kai-jobs: ${message}\nRun "kai-jobs ${argv[0] as string} --help" for usage.\n`);
    expect(run.stderr).not.toMatch(/ambiguous|ERR_PARSE_ARGS/);
  });

  it('a negative number given with = is checked the same way', async () => {
    const run = await kaiJobs(['list', '--limit=-5'], NO_REDIS);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--limit expects a whole number from 1 to 10000, got "-5"/);
  });

  it('lists every problem of one command line in one error, exit 2', async () => {
    const run = await kaiJobs(['list', '--limit', '-5', '--type', 'pdfs', '--stuk', '--status', 'nope', 'extra'], NO_REDIS);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        'kai-jobs: 5 problems with "kai-jobs list":',
        '  - unknown flag --stuk for "kai-jobs list" — did you mean --stuck?',
        '  - --type must be one of pdf, scrape, xml-import; got "pdfs" (did you mean pdf?)',
        '  - --status must be one of pending, processing, scraping, completed, failed; got "nope"',
        '  - --limit expects a whole number from 1 to 10000, got "-5"',
        '  - unexpected argument "extra": usage is "kai-jobs list [--type pdf|scrape|xml-import] [--status s] [--stuck] [--limit n] [--json]"',
        'Run "kai-jobs list --help" for usage.',
        '',
      ].join('\n'),
    );
  });

  it('with --json the problems are listed one by one', async () => {
    const run = await kaiJobs(['enqueue', 'pdf', '--priority', '-1', '--delay-ms', 'soon', '--max-pages', '0', '--prioriy', '3', '--json'], NO_REDIS);
    expect(run.code).toBe(2);
    const error = run.json<{ error: { problems: string[]; message: string } }>().error;
    expect(error.problems).toEqual([
      'unknown flag --prioriy for "kai-jobs enqueue" — did you mean --priority?',
      '--max-pages expects a whole number of at least 1, got "0"',
      '--priority expects a whole number from 1 to 2097152, got "-1"',
      '--delay-ms expects a whole number of at least 0, got "soon"',
    ]);
    expect(error.message).toMatch(/^4 problems with "kai-jobs enqueue":/);
  });

  it('a flag missing its value is one of the problems, not the end of the check', async () => {
    const run = await kaiJobs(['list', '--limit', '--type', 'pfd'], NO_REDIS);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/2 problems/);
    expect(run.stderr).toMatch(/--limit: argument missing \(expects a whole number from 1 to 10000\)/);
    expect(run.stderr).toMatch(/--type must be one of pdf, scrape, xml-import; got "pfd" \(did you mean pdf\?\)/);
  });
});

describe('every command has --help with examples', () => {
  it.each(COMMANDS.map((command) => [command.name]))('kai-jobs %s --help', async (name) => {
    const run = await kaiJobs([name, '--help'], NO_REDIS);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: kai-jobs ${name}`);
    expect(run.stdout).toContain('--json');
    expect(run.stdout).toMatch(/Examples:\n {2}\S/);
    expect(run.stdout).toContain('Exit codes: 0 ok, 1 failed, 2 bad usage');
  });

  it('lists each flag with its value placeholder', () => {
    const text = commandHelp(spec('enqueue'));
    expect(text).toMatch(/--file <payload\.json>\s+read the payload/);
    expect(text).toMatch(/--include <regex> …/);
  });
});

describe('enqueue payloads from flags and files', () => {
  const args = (argv: string[]) => parseCommandArgs(spec('enqueue'), argv);

  it('pdf: a relative path is made absolute, options are typed, a document id is made up when missing', () => {
    const payload = buildPayload('pdf', args(['pdf', '--path', 'in/cat.pdf', '--max-pages', '4', '--skip-tiles', '--render-scale', '1.5']), '/data');
    expect(payload).toEqual({ documentId: expect.stringMatching(/^pdf-[0-9a-f]{12}$/), source: { kind: 'file', path: '/data/in/cat.pdf' }, options: { maxPages: 4, skipTiles: true, renderScale: 1.5 } });
  });

  it('--inline sends the file base64 in the payload', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.pdf'), Buffer.from('%PDF-1.7 tiny'));
    expect(buildPayload('pdf', args(['pdf', '--inline', 'a.pdf', '--document-id', 'd1']), dir)).toEqual({
      documentId: 'd1',
      source: { kind: 'inline', base64: Buffer.from('%PDF-1.7 tiny').toString('base64') },
    });
  });

  it('scrape and xml-import flags map onto their fields; repeatable flags collect', () => {
    expect(buildPayload('scrape', args(['scrape', '--url', 'https://a.example/', '--include', '/p/', '--include', '/q/', '--any-origin', '--max-depth', '0']), '/')).toEqual({
      sessionId: expect.stringMatching(/^scrape-/),
      sourceUrl: 'https://a.example/',
      includePatterns: ['/p/', '/q/'],
      sameOrigin: false,
      maxDepth: 0,
    });
    expect(buildPayload('xml-import', args(['xml-import', '--source-name', 'acme', '--url', 'https://a.example/f.xml', '--map', 'sku=@sku', '--map', 'name=title', '--batch-size', '50']), '/')).toEqual({
      importJobId: expect.stringMatching(/^xml-import-/),
      sourceName: 'acme',
      source: { kind: 'url', url: 'https://a.example/f.xml' },
      fieldMapping: { sku: '@sku', name: 'title' },
      batchSize: 50,
    });
  });

  it('--map adds to the default mapping or overrides single fields of a --preset', () => {
    const plain = validatePayload('xml-import', buildPayload('xml-import', args(['xml-import', '--source-name', 'acme', '--path', 'f.xml', '--map', 'price=price', '--map', 'currency=price/@currency']), '/'));
    expect(plain.fieldMapping).toEqual({ sku: 'sku', name: 'name', price: 'price', currency: 'price/@currency' });
    expect(plain.recordElement).toBe('product');

    const argv = ['xml-import', '--source-name', 'shop', '--path', 'm.xml', '--preset', 'google-merchant', '--map', 'price=g:cost', '--map', 'brand=', '--map', 'colour=g:color'];
    argv.push('--map', 'weight={"path":"g:weight","type":"weight","unit":"g","decimalComma":true}');
    const built = buildPayload('xml-import', args(argv), '/');
    expect(built).toMatchObject({ preset: 'google-merchant', fieldMapping: { price: 'g:cost', brand: null, colour: 'g:color' } });
    const merchant = validatePayload('xml-import', built);
    expect(merchant.recordElement).toEqual(['item', 'entry']);
    expect(merchant.fieldMapping['price']).toEqual({ path: 'g:cost', type: 'money', required: true, currencyField: 'currency' });
    expect(merchant.fieldMapping['weight']).toEqual({ path: 'g:weight', type: 'weight', unit: 'g', decimalComma: true });
    expect(merchant.fieldMapping).not.toHaveProperty('brand');
    expect(merchant.fieldMapping).toMatchObject({ sku: { path: 'g:id' }, colour: 'g:color', gtin: { type: 'gtin' } });

    const variants = buildPayload('xml-import', args(['xml-import', '--record-element', 'item', '--record-element', 'entry', '--variant-element', 'variants/variant']), '/');
    expect(variants).toMatchObject({ recordElement: ['item', 'entry'], variantElement: 'variants/variant' });
    expect(() => buildPayload('xml-import', args(['xml-import', '--map', 'price={"path":']), '/')).toThrow(/^--map "price=\{"path":": the spec is not valid JSON/);
  });

  it('--file gives the payload and flags override its fields', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ documentId: 'from-file', source: { kind: 'url', url: 'https://a.example/x.pdf' }, options: { tileSizePx: 256 } }));
    expect(buildPayload('pdf', args(['pdf', '--file', 'p.json', '--document-id', 'from-flag', '--skip-materials']), dir)).toEqual({
      documentId: 'from-flag',
      source: { kind: 'url', url: 'https://a.example/x.pdf' },
      options: { tileSizePx: 256, skipMaterials: true },
    });
  });

  it('a bad --file or --map is a usage error naming it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), '[1, 2]');
    expect(() => buildPayload('pdf', args(['pdf', '--file', 'bad.json']), dir)).toThrow('--file bad.json: expected a JSON object (the payload), got an array');
    expect(() => buildPayload('pdf', args(['pdf', '--file', 'missing.json']), dir)).toThrow('--file missing.json: cannot read it (ENOENT)');
    expect(() => buildPayload('xml-import', args(['xml-import', '--map', 'sku']), dir)).toThrow('--map "sku": expected field=path');
  });
});

describe('small pieces', () => {
  it('closestMatch finds typos and unique prefixes, and nothing far away', () => {
    expect(closestMatch('chekpoints', COMMANDS.map((c) => c.name))).toBe('checkpoints');
    expect(closestMatch('thr', COMMANDS.map((c) => c.name))).toBe('thresholds');
    expect(closestMatch('deploy', COMMANDS.map((c) => c.name))).toBeUndefined();
  });

  it('formats durations, progress bars and log lines', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(4_400)).toBe('4.4 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(3_900_000)).toBe('1 h 5 min');
    expect(progressBar(50, 10)).toBe('[#####-----]  50%');
    expect(shouldPrintPlain({ status: 'processing', stage: 'a', percent: 11, detail: null }, { status: 'processing', stage: 'a', percent: 19, detail: 'x' })).toBe(false);
    expect(shouldPrintPlain({ status: 'processing', stage: 'a', percent: 19, detail: null }, { status: 'processing', stage: 'a', percent: 20, detail: null })).toBe(true);
    expect(prettyLogLine('{"level":"warn","time":"2026-01-02T03:04:05.678Z","service":"kai-jobs","component":"worker","jobId":"j1","msg":"lost the job"}')).toBe(
      '03:04:05 WARN  worker  lost the job  jobId=j1',
    );
  });

  it('rounds percentages for people', () => {
    expect(formatPercent(41.11)).toBe('41%');
    expect(formatPercent(99.5)).toBe('100%');
    expect(formatPercent(0)).toBe('0%');
  });

  it('JSON is indented on a terminal and one line when piped', () => {
    const value = { id: 'j1', result: { pages: 3, tags: ['a', 'b'] } };
    const terminal = new Buffered(true);
    const piped = new Buffered(false);
    writeJson(terminal, value);
    writeJson(piped, value);
    expect(terminal.text).toBe(`${JSON.stringify(value, null, 2)}\n`);
    expect(piped.text).toBe('{"id":"j1","result":{"pages":3,"tags":["a","b"]}}\n');
  });

  it('a result reads as key: value lines on a terminal and stays one JSON line when piped', () => {
    const result = { documentId: 'doc-1', pages: 17, skipped: false, model: null, artifacts: { text: 'a/pages.jsonl' }, failedPages: [2, 9], materials: [{ name: 'oak', page: 3 }] };
    expect(formatReadable(result)).toEqual([
      'documentId: doc-1',
      'pages: 17',
      'skipped: false',
      'model: null',
      'artifacts:',
      '  text: a/pages.jsonl',
      'failedPages: 2, 9',
      'materials:',
      '  - name: oak',
      '    page: 3',
    ]);
    expect(formatLabelledValue(new Buffered(true), 'result', { pages: 3 })).toEqual(['result:', '  pages: 3']);
    expect(formatLabelledValue(new Buffered(true), 'result', 'done')).toEqual(['result: done']);
    expect(formatLabelledValue(new Buffered(false), 'result', { pages: 3 })).toEqual(['result: {"pages":3}']);
  });
});
