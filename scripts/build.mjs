#!/usr/bin/env node
// Compiles every workspace package to JavaScript in its dist/ (`pnpm build`), for what runs
// compiled: `pnpm start`, `pnpm kai-jobs`, `pnpm demo`, the package bins and the image.
// Plain JavaScript on purpose: it runs before anything is compiled, without tsx.
//
//   node scripts/build.mjs              build (tsc -b: incremental, only what changed)
//   node scripts/build.mjs --if-stale   build only when a source is newer than the last build
//                                       (a stat of each source: ~20 ms when nothing changed)
//   node scripts/build.mjs --clean      remove every dist/ first
//
// Steps: `tsc -b tsconfig.build.json` (project references, one project per package); the
// non-TypeScript files the code loads at run time (Lua scripts, the CPU pool's .mjs thread
// entry) copied beside the output; then, in the emitted .js only, every import of a workspace
// package (`@kai-jobs/queue`, `@kai-jobs/workers/fixtures/pdfs`) pointed at its compiled entry
// (`@kai-jobs/queue/dist`, …), an export each package.json lists next to its source entry.
// Why not an export condition: the packages' default exports stay the TypeScript sources, so
// vitest, tsx, `pnpm tsx bench/…` and every test that spawns `node --import tsx …` keep running
// the sources with no flag and can never pick up a stale dist/; compiled code names the
// compiled entries itself, so a bare `node apps/cli/dist/bin/kai-jobs.js` needs no flag either.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROOT_CONFIG = join(ROOT, 'tsconfig.build.json');
/** Written after a successful build; its mtime is the build's time for --if-stale. */
const STAMP = join(ROOT, 'node_modules', '.cache', 'kai-jobs-build', 'stamp');
/** Held while building, so concurrent `pnpm start`s and test files never run tsc on the same files. */
const LOCK = join(ROOT, 'node_modules', '.cache', 'kai-jobs-build', 'lock');
/** Files copied from a project's sources to its dist/ unchanged. */
const ASSET_EXTENSIONS = ['.lua', '.mjs'];
/** The shebang of compiled bins (the sources' one loads tsx). */
const COMPILED_SHEBANG = '#!/usr/bin/env node';

/** The package projects tsconfig.build.json references, with what they compile. */
function projects() {
  const root = readJson(ROOT_CONFIG);
  return root.references.map(({ path }) => {
    const configPath = join(ROOT, path);
    const dir = dirname(configPath);
    const config = readJson(configPath);
    const manifest = readJson(join(dir, 'package.json'));
    return {
      dir,
      name: manifest.name,
      manifest,
      rootDir: join(dir, config.compilerOptions.rootDir),
      outDir: join(dir, config.compilerOptions.outDir),
      include: config.include.map((entry) => join(dir, entry)),
    };
  });
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Every file under `dir` (recursively), skipping node_modules and dist. */
function* walk(dir) {
  if (!existsSync(dir)) return;
  if (statSync(dir).isFile()) {
    yield dir;
    return;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** The newest modification time among the build's inputs (sources, assets, configs, manifests). */
function newestInput(all) {
  let newest = 0;
  const consider = (path) => {
    newest = Math.max(newest, statSync(path).mtimeMs);
  };
  consider(ROOT_CONFIG);
  consider(join(ROOT, 'tsconfig.base.json'));
  consider(join(ROOT, 'pnpm-lock.yaml'));
  for (const project of all) {
    consider(join(project.dir, 'package.json'));
    consider(join(project.dir, 'tsconfig.build.json'));
    for (const include of project.include) for (const file of walk(include)) consider(file);
  }
  return newest;
}

function isStale(all) {
  if (!existsSync(STAMP)) return true;
  if (all.some((project) => !existsSync(project.outDir))) return true;
  return newestInput(all) > statSync(STAMP).mtimeMs;
}

/** Runs `tsc -b` with the workspace's TypeScript; exits with its code on errors. */
function compile() {
  const tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-b', ROOT_CONFIG], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`build: tsc -b failed (exit ${result.status ?? result.signal})\n`);
    process.exit(1);
  }
}

function copyAssets(project) {
  for (const include of project.include) {
    for (const file of walk(include)) {
      if (!ASSET_EXTENSIONS.some((extension) => file.endsWith(extension))) continue;
      const target = join(project.outDir, relative(project.rootDir, file));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file, target);
    }
  }
}

/**
 * `@kai-jobs/<pkg>[/<subpath>]` → the compiled export that package.json lists for it
 * (`./dist` for `.`, `./dist/<subpath>` for `./<subpath>`). Throws for a workspace import
 * without one, so a new export cannot be forgotten silently.
 */
function compiledSpecifier(all, specifier) {
  const match = /^(@kai-jobs\/[a-z-]+)(?:\/(.+))?$/.exec(specifier);
  if (match === null) return specifier;
  const [, name, subpath] = match;
  if (subpath !== undefined && (subpath === 'dist' || subpath.startsWith('dist/'))) return specifier;
  const project = all.find((candidate) => candidate.name === name);
  if (project === undefined) throw new Error(`build: ${specifier} names no workspace package`);
  const compiledKey = subpath === undefined ? './dist' : `./dist/${subpath}`;
  if (project.manifest.exports?.[compiledKey] === undefined) {
    throw new Error(`build: ${name}'s package.json has no "${compiledKey}" export for the compiled import of ${specifier}`);
  }
  return `${name}/${compiledKey.slice(2)}`;
}

/** Points the workspace imports of every emitted .js at compiled entries; fixes the bins' shebang. */
function rewriteOutput(all, project) {
  const bins = new Set(Object.values(project.manifest.bin ?? {}).map((bin) => join(project.dir, bin)));
  for (const file of walk(project.outDir)) {
    if (!file.endsWith('.js')) continue;
    const before = readFileSync(file, 'utf8');
    // Static imports, re-exports, side-effect imports and dynamic import() of a string literal.
    let after = before.replace(/((?:\bfrom|\bimport)\s*\(?\s*)(['"])(@kai-jobs\/[^'"]+)\2/g, (_all, lead, quote, specifier) => {
      return `${lead}${quote}${compiledSpecifier(all, specifier)}${quote}`;
    });
    if (bins.has(file) && after.startsWith('#!')) after = `${COMPILED_SHEBANG}${after.slice(after.indexOf('\n'))}`;
    if (after !== before) writeFileSync(file, after);
  }
}

function withLock(run) {
  mkdirSync(dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A lock older than 5 minutes is a build that was killed: take it over.
      if (Date.now() - statSync(LOCK).mtimeMs > 300_000 || Date.now() > deadline) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    run();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const args = new Set(process.argv.slice(2));
const all = projects();
if (args.has('--if-stale') && !isStale(all)) process.exit(0);
withLock(() => {
  // Another process may have built while this one waited for the lock.
  if (args.has('--if-stale') && !isStale(all)) return;
  const started = Date.now();
  if (args.has('--clean')) for (const project of all) rmSync(project.outDir, { recursive: true, force: true });
  // Taken before compiling: a source saved during the build makes the next --if-stale build again.
  const inputsAt = Date.now();
  compile();
  for (const project of all) {
    copyAssets(project);
    rewriteOutput(all, project);
  }
  writeFileSync(STAMP, '');
  utimesSync(STAMP, new Date(inputsAt), new Date(inputsAt));
  if (!args.has('--quiet')) process.stderr.write(`build: compiled ${all.length} packages in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});
