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
//
// Last, the `kai-jobs` binary (apps/cli/dist/bin/kai-jobs.js) is bundled by esbuild from the
// sources: loading the ~1,100 files a command's module graph spans (BullMQ alone is 171) cost
// ~0.4 s of every command's start-up, mostly resolving, reading and lexing CommonJS files;
// one file for what every command needs, and one chunk per on-demand part (the monitor, the
// workers, the board), load in a fraction of that. See bundleCli() for what is inlined.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
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
  // This script: a change of what the build does (the bundle's settings) rebuilds too.
  consider(fileURLToPath(import.meta.url));
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

/**
 * The `kai-jobs` binary, bundled: its entry source and where the bundle goes (over the file tsc
 * emitted for it, so every path that names the binary stays the same). The entry's shared and
 * on-demand chunks are written beside it as `kai-jobs.<name>-<hash>.js`.
 */
const CLI_BUNDLE = {
  entry: join(ROOT, 'apps', 'cli', 'src', 'bin', 'kai-jobs.ts'),
  outDir: join(ROOT, 'apps', 'cli', 'dist', 'bin'),
  name: 'kai-jobs',
};
/**
 * Third-party packages inlined into the bundle, with their own dependencies: what every command
 * loads. Every other third-party import (the Sentry SDK, Bull Board and Express, the AWS SDK,
 * pdf.js, the canvas…) stays an import of the installed package, loaded only by the commands that
 * need it and exactly as without the bundle: native parts and asset files keep working. (An
 * inlined package cannot be patched by a module hook such as Sentry's auto-instrumentation;
 * kai-jobs sets up no Sentry integration, so none is lost. Bull Board's adapter requires its own
 * BullMQ and accepts the inlined one's queues by their version, not `instanceof`.)
 */
const INLINED_PACKAGES = new Set(['bullmq', 'ioredis', 'zod', 'pino', 're2js']);
/** The bundle's folder (every chunk is written there), declared by each chunk's banner. */
const BUNDLE_DIR_VARIABLE = '__kaiBundleDir';

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function toImportPath(from, to) {
  const path = relative(from, to).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/**
 * The esbuild plugin that keeps the bundled code seeing the file layout of the compiled packages:
 * - a workspace source's `import.meta.url` becomes the URL of its compiled file in its package's
 *   dist/ (computed from the bundle's own URL), so the Lua scripts, the CPU pool's thread entry
 *   and its task modules, `createRequire` (supabase-js, pdf.js, the board's fonts) and the CLI's
 *   package.json are found where they are without the bundle — in the image too, which keeps
 *   every package's dist/ and node_modules;
 * - a third-party import of a workspace source that is not inlined becomes an import of the file
 *   that package resolves to through the importing package's own node_modules (a relative path
 *   from the bundle), since the CLI's node_modules lists only the CLI's own dependencies.
 */
function workspaceLayoutPlugin(all, outDir) {
  const projectOf = (file) => all.find((project) => file.startsWith(project.rootDir + sep));
  return {
    name: 'kai-jobs-workspace-layout',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.path.startsWith('node:') || args.pluginData?.resolving === true) return undefined;
        const importer = projectOf(args.importer);
        const name = packageNameOf(args.path);
        if (importer === undefined || name.startsWith('@kai-jobs/') || INLINED_PACKAGES.has(name)) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { resolving: true } });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (resolved.external || !resolved.path.includes(sep)) return { path: args.path, external: true };
        const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`;
        const at = resolved.path.lastIndexOf(marker);
        if (at === -1) throw new Error(`build: cannot place ${args.path} (resolved to ${resolved.path}) under ${importer.name}'s node_modules`);
        const throughImporter = join(importer.dir, 'node_modules', name, resolved.path.slice(at + marker.length));
        if (!existsSync(throughImporter)) throw new Error(`build: ${throughImporter} does not exist (${args.path} imported by ${args.importer})`);
        return { path: toImportPath(outDir, throughImporter), external: true };
      });
      build.onLoad({ filter: /\.(?:ts|mts|js|mjs|cjs)$/ }, (args) => {
        const project = projectOf(args.path);
        if (project === undefined) return inlinedPackageFile(args.path);
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const compiled = join(project.outDir, relative(project.rootDir, args.path)).replace(/\.ts$/, '.js').replace(/\.mts$/, '.mjs');
        const url = `new URL(${JSON.stringify(toImportPath(outDir, compiled))}, import.meta.url).href`;
        return { contents: source.replaceAll('import.meta.url', url), loader: /\.m?ts$/.test(args.path) ? 'ts' : 'js', resolveDir: dirname(args.path) };
      });
    },
  };

  /**
   * An inlined package's CommonJS file that uses `__dirname`/`__filename` (ioredis reads its
   * package.json for the client name it reports to Redis): the bundle is ES modules, which have
   * neither, so they are declared as the file's place through a workspace package's
   * node_modules (the same in the image). A file of a package no workspace package depends on
   * directly keeps them undeclared: they are only read on paths the CLI never takes (pino's
   * worker-thread transports, BullMQ's sandboxed processor files, msgpackr's native add-on,
   * whose absence msgpackr catches and answers with its JavaScript decoder).
   */
  function inlinedPackageFile(file) {
    const source = readFileSync(file, 'utf8');
    if (!/\b__(?:dirname|filename)\b/.test(source)) return undefined;
    const marker = `${sep}node_modules${sep}`;
    const inPackage = file.slice(file.lastIndexOf(marker) + marker.length);
    const name = packageNameOf(inPackage.split(sep).join('/'));
    const owner = all.find((project) => existsSync(join(project.dir, 'node_modules', name)));
    if (owner === undefined) return undefined;
    // Relative to the bundle's folder, which the banner names (import.meta would make esbuild
    // treat the file as an ES module and lose its `exports`).
    const throughOwner = relative(outDir, join(owner.dir, 'node_modules', inPackage)).split(sep).join('/');
    const declared =
      `var __filename = require('node:path').join(${BUNDLE_DIR_VARIABLE}, ${JSON.stringify(throughOwner)}); ` +
      "var __dirname = require('node:path').dirname(__filename);\n";
    return { contents: declared + source, loader: 'js', resolveDir: dirname(file) };
  }
}

/**
 * Bundles the `kai-jobs` binary (see CLI_BUNDLE, INLINED_PACKAGES) with the workspace's esbuild;
 * the bundle replaces the binary tsc emitted, its chunks of an earlier build are removed.
 */
async function bundleCli(all) {
  const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild');
  const { outDir, name } = CLI_BUNDLE;
  const result = await esbuild.build({
    entryPoints: { [name]: CLI_BUNDLE.entry },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: `${name}.[name]-[hash]`,
    banner: {
      js: [
        "import { createRequire as __kaiCreateRequire } from 'node:module';",
        "import { fileURLToPath as __kaiFileURLToPath } from 'node:url';",
        // The CommonJS packages inlined (ioredis…) call require() for Node's built-in modules.
        'const require = __kaiCreateRequire(import.meta.url);',
        `const ${BUNDLE_DIR_VARIABLE} = __kaiFileURLToPath(new URL('.', import.meta.url));`,
      ].join('\n'),
    },
    // msgpackr's optional native string decoder (via BullMQ) cannot be inlined; msgpackr falls
    // back to its JavaScript one when the add-on is not found, as where the add-on did not build
    // (BullMQ packs with msgpackr; the add-on only speeds up unpacking).
    external: ['msgpackr-extract'],
    plugins: [workspaceLayoutPlugin(all, outDir)],
    write: false,
    logLevel: 'error',
  });
  const written = new Set();
  for (const output of result.outputFiles) {
    let text = output.text;
    // The source's shebang runs tsx; the bundle is plain JavaScript.
    if (text.startsWith('#!')) text = `${COMPILED_SHEBANG}${text.slice(text.indexOf('\n'))}`;
    // Written beside and renamed over: a binary started during a rebuild (a test, a second
    // `pnpm kai-jobs`) reads the old file or the new one, never half of one.
    const temporary = `${output.path}.${process.pid}.tmp`;
    writeFileSync(temporary, text, { mode: 0o755 });
    renameSync(temporary, output.path);
    written.add(output.path);
  }
  // Chunks of an earlier build, and tsc's source map of the binary, which the bundle replaced.
  for (const file of readdirSync(outDir)) {
    const path = join(outDir, file);
    if (file.startsWith(`${name}.`) && (file.endsWith('.js') || file === `${name}.js.map`) && !written.has(path)) rmSync(path);
  }
}

async function withLock(run) {
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
    await run();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

const args = new Set(process.argv.slice(2));
const all = projects();
if (args.has('--if-stale') && !isStale(all)) process.exit(0);
await withLock(async () => {
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
  await bundleCli(all);
  writeFileSync(STAMP, '');
  utimesSync(STAMP, new Date(inputsAt), new Date(inputsAt));
  if (!args.has('--quiet')) process.stderr.write(`build: compiled ${all.length} packages in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
});
