/**
 * The compiled code (`pnpm build`: dist/ of every package), run with plain node and no tsx —
 * what `pnpm start`, `pnpm kai-jobs` and the image run: the binary answers, every workspace
 * import in dist/ points at a compiled entry, the PDF stages' CPU-pool threads load compiled
 * modules, and a worker of the compiled binary runs a PDF job (text and tiles in those threads)
 * that the compiled `enqueue --wait` and `status` follow.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useRedisTestContext } from '@kai-jobs/queue/testing';
import { makeCataloguePdf } from '@kai-jobs/workers/fixtures/pdfs';
import { commandHelp, COMMANDS, mainHelp } from '../src/index.js';
import { COMPILED_KAI_JOBS_BIN, ensureBuilt, spawnCompiled, tempDir, testEnv } from './support.js';

const ctx = useRedisTestContext(import.meta.url);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIST_DIRS = ['packages/queue', 'packages/checkpoint', 'packages/workers', 'packages/monitor', 'apps/board', 'apps/cli'].map((dir) => join(ROOT, dir, 'dist'));

function* jsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* jsFiles(path);
    else if (entry.name.endsWith('.js') || entry.name.endsWith('.mjs')) yield path;
  }
}

/** Runs the compiled binary to its end; its exit code and output. */
function runCompiled(argv: readonly string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [COMPILED_KAI_JOBS_BIN, ...argv], { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { code: failed.status, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(() => ensureBuilt(), 600_000);

describe('the compiled kai-jobs', () => {
  it('--help, --version and a command\'s help: the same text as the sources, exit 0, with plain node', () => {
    const help = runCompiled(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(mainHelp(COMMANDS));
    const manifest = JSON.parse(readFileSync(join(ROOT, 'apps/cli/package.json'), 'utf8')) as { version: string };
    expect(runCompiled(['--version', '--json']).stdout).toBe(`${JSON.stringify({ version: manifest.version })}\n`);
    const status = COMMANDS.find((command) => command.name === 'status');
    expect(runCompiled(['status', '--help']).stdout).toBe(commandHelp(status as (typeof COMMANDS)[number]));
    // Bad usage is still exit 2 and its message.
    const typo = runCompiled(['lisst']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown command "lisst" — did you mean "list"?');
  });

  it('dist/ imports workspace packages only through their compiled entries, and never tsx', () => {
    let files = 0;
    for (const dir of DIST_DIRS) {
      for (const file of jsFiles(dir)) {
        files++;
        const text = readFileSync(file, 'utf8');
        // `@kai-jobs/queue` (the TypeScript source entry) instead of `@kai-jobs/queue/dist`.
        expect(text, file).not.toMatch(/(?:from|import)\s*\(?\s*['"]@kai-jobs\/[a-z-]+(?:\/(?!dist\b)[^'"]*)?['"]/);
        // The CPU pool's thread entry loads tsx only for a TypeScript task module, lazily.
        if (!file.endsWith('cpu-thread.mjs')) expect(text, file).not.toMatch(/(?:from|import)\s*\(?\s*['"]tsx(?:\/[^'"]*)?['"]/);
      }
    }
    expect(files).toBeGreaterThan(100);
    // The Lua scripts and the thread entry travel with the code that loads them.
    expect(existsSync(join(ROOT, 'packages/queue/dist/lua/includes/common.lua'))).toBe(true);
    expect(existsSync(join(ROOT, 'packages/queue/dist/lua/save-checkpoint-4.lua'))).toBe(true);
    expect(existsSync(join(ROOT, 'packages/monitor/dist/lua/lease-acquire-2.lua'))).toBe(true);
    expect(existsSync(join(ROOT, 'packages/workers/dist/src/cpu/cpu-thread.mjs'))).toBe(true);
    // The bin has a plain node shebang (the source's loads tsx).
    expect(readFileSync(COMPILED_KAI_JOBS_BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('the binary is one esbuild bundle whose every relative import, and every file it names through a package\'s dist/ or node_modules, exists', () => {
    const binDir = dirname(COMPILED_KAI_JOBS_BIN);
    const outputs = readdirSync(binDir).filter((file) => file === 'kai-jobs.js' || (file.startsWith('kai-jobs.') && file.endsWith('.js')));
    // The entry and its chunks: the on-demand parts (the monitor, workers, board services) are chunks of their own.
    expect(outputs.length).toBeGreaterThan(3);
    let named = 0;
    for (const file of outputs) {
      const text = readFileSync(join(binDir, file), 'utf8');
      // Inlined: no import of a workspace package, of BullMQ, ioredis or zod is left to resolve at run time.
      expect(text, file).not.toMatch(/(?:from|import)\s*\(?\s*['"](?:@kai-jobs\/|bullmq|ioredis|zod)/);
      // Chunks, third-party packages loaded through a workspace package's node_modules, and the
      // compiled files whose place stands for a source's import.meta.url (Lua scripts, thread entries…).
      const relativeNames = [
        ...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g),
        ...text.matchAll(/new URL\("(\.{1,2}\/[^"]+)", import\.meta\.url\)/g),
        ...text.matchAll(/join\(__kaiBundleDir, "([^"]+)"\)/g),
      ].map((match) => match[1] as string);
      for (const name of relativeNames) {
        named++;
        expect(existsSync(join(binDir, name)), `${file} names ${name}`).toBe(true);
      }
    }
    expect(named).toBeGreaterThan(20);
  });

  it('switches V8\'s compile cache on where Node has it (≥ 22.1, the image), in the OS temporary folder; Node 20 has none and runs without', () => {
    const hasCompileCache = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    const tmp = tempDir('kai-cli-compile-cache-');
    const env: Record<string, string> = { TMPDIR: tmp };
    // Node's own switches would decide instead of the binary.
    for (const name of ['NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE']) env[name] = '';
    const version = runCompiled(['--version'], env);
    expect(version.code).toBe(0);
    expect(existsSync(join(tmp, 'kai-jobs-compile-cache'))).toBe(hasCompileCache);
  });

  it('the PDF stages hand the CPU-pool threads compiled task modules (.js files that exist)', () => {
    const script = [
      `const text = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'packages/workers/dist/src/jobs/pdf/stages/text-extracted.js')).href)});`,
      `const tiles = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'packages/workers/dist/src/jobs/pdf/stages/tiles-generated.js')).href)});`,
      'console.log(JSON.stringify([text.extractPageTextTask.moduleUrl, tiles.renderPageTilesTask.moduleUrl]));',
    ].join('\n');
    const urls = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    expect(urls.map((url) => fileURLToPath(url))).toEqual([
      join(ROOT, 'packages/workers/dist/src/jobs/pdf/extract-page-text.js'),
      join(ROOT, 'packages/workers/dist/src/jobs/pdf/render-page-tiles.js'),
    ]);
    for (const url of urls) expect(statSync(fileURLToPath(url)).isFile()).toBe(true);
  });

  it('a compiled worker runs a PDF job end to end (text and tiles in CPU-pool threads); compiled enqueue --wait and status follow it', async () => {
    const env = testEnv(ctx.redisUrl, ctx.prefix, { WORKER_TYPES: 'pdf', LOG_LEVEL: 'info' });
    const worker = spawnCompiled(['worker'], env);
    try {
      await worker.waitForStderr(/"msg":"worker ready"/, 60_000);
      const path = join(tempDir('kai-cli-compiled-'), 'catalogue.pdf');
      writeFileSync(path, await makeCataloguePdf());
      const enqueue = spawnCompiled(['enqueue', 'pdf', '--path', path, '--document-id', 'doc-compiled', '--wait', '--json'], env);
      expect(await enqueue.exited).toBe(0);
      const outcome = JSON.parse(enqueue.stdout()) as { id: string; status: string };
      expect(outcome.status).toBe('completed');

      const status = spawnCompiled(['status', outcome.id, '--json'], env);
      expect(await status.exited).toBe(0);
      const view = JSON.parse(status.stdout()) as { row: { status: string }; checkpoints: { checkpoints: { stage: string; valid: boolean }[] } };
      expect(view.row.status).toBe('completed');
      const stages = view.checkpoints.checkpoints.map((checkpoint) => checkpoint.stage);
      expect(stages).toEqual(expect.arrayContaining(['text_extracted', 'tiles_generated']));
      expect(view.checkpoints.checkpoints.every((checkpoint) => checkpoint.valid)).toBe(true);

      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      await worker.kill();
    }
  }, 180_000);
});
