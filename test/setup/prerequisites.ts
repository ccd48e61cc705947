/**
 * What the test suites need beyond `pnpm install`, and how each is found or installed:
 * Debian's Chromium for the board's browser test, `redis-server` for the chaos suite and the
 * cluster run. `scripts/ensure-test-prerequisites.ts` (run by `pnpm test` and the other test
 * scripts before vitest) acts on the decision made here; the tests read their paths from here,
 * so the script checks exactly what they will launch. The decision is a pure function of the
 * host, so every branch is unit-tested without installing anything.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Debian's Chromium, the default browser of the browser tests. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** The environment variables this module reads. */
export type PrerequisiteEnv = Readonly<Record<string, string | undefined>>;

/** The Chromium the browser tests launch: `CHROMIUM_PATH`, else Debian's. */
export function chromiumPath(env: PrerequisiteEnv = process.env): string {
  const configured = env['CHROMIUM_PATH'];
  return configured === undefined || configured === '' ? DEFAULT_CHROMIUM_PATH : configured;
}

/** What the decision needs to know about the machine. */
export interface Host {
  readonly env: PrerequisiteEnv;
  /** Running as root (uid 0), so apt-get may install. */
  readonly isRoot: boolean;
  /** Whether `path` is an executable file. */
  readonly isExecutable: (path: string) => boolean;
}

/** One thing the suites need that npm cannot bring. */
export interface Prerequisite {
  /** The name the script takes on its command line. */
  readonly name: string;
  /** What it is, for messages. */
  readonly label: string;
  /** Who needs it, for messages. */
  readonly neededBy: string;
  /** The executables that must be there (absolute paths or names looked up on `PATH`). */
  readonly executables: (env: PrerequisiteEnv) => readonly string[];
  /** The Debian packages that bring them. */
  readonly aptPackages: readonly string[];
  /**
   * Why installing the Debian packages would not help (a path the user chose elsewhere), or
   * `undefined` when it would.
   */
  readonly notInstallable: (env: PrerequisiteEnv) => string | undefined;
}

/** Debian's Chromium (or `CHROMIUM_PATH`), for the board's browser test. */
export const CHROMIUM_PREREQUISITE: Prerequisite = {
  name: 'chromium',
  label: 'Chromium',
  neededBy: "the board's browser test (apps/board/test/board-browser.int.test.ts)",
  executables: (env) => [chromiumPath(env)],
  aptPackages: ['chromium'],
  notInstallable: (env) =>
    chromiumPath(env) === DEFAULT_CHROMIUM_PATH
      ? undefined
      : `CHROMIUM_PATH is set to ${chromiumPath(env)}; unset it to use Debian's ${DEFAULT_CHROMIUM_PATH}, or point it at a Chromium binary`,
};

/** `redis-server` and `redis-cli`, for the chaos suite's own servers and the cluster run. */
export const REDIS_SERVER_PREREQUISITE: Prerequisite = {
  name: 'redis-server',
  label: 'redis-server and redis-cli',
  neededBy: 'the chaos suite (its own redis-server per scenario) and the cluster run (scripts/redis-cluster.sh)',
  executables: () => ['redis-server', 'redis-cli'],
  aptPackages: ['redis-server'],
  notInstallable: () => undefined,
};

/** Everything `scripts/ensure-test-prerequisites.ts` knows how to check, by name. */
export const PREREQUISITES: Readonly<Record<string, Prerequisite>> = { chromium: CHROMIUM_PREREQUISITE, 'redis-server': REDIS_SERVER_PREREQUISITE };

/** What to do about one prerequisite. */
export type PrerequisitePlan =
  | { readonly kind: 'present'; readonly paths: readonly string[] }
  | {
      readonly kind: 'install';
      /** What is missing and who needs it. */
      readonly what: string;
      /** The one line to print before installing. */
      readonly announcement: string;
      readonly aptPackages: readonly string[];
      /** The install, as a root user would type it. */
      readonly command: string;
    }
  | {
      readonly kind: 'missing';
      /** Why the tests cannot run, and the one command that fixes it. */
      readonly message: string;
    };

/** `name` as an absolute path, looked up on `PATH` when it has no slash; `undefined` if absent. */
export function findExecutable(name: string, host: Host): string | undefined {
  if (name.includes('/')) return host.isExecutable(name) ? name : undefined;
  for (const dir of (host.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && host.isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The command that installs `packages` with apt, as the user would type it. */
export function aptInstallCommand(packages: readonly string[], sudo: boolean): string {
  const prefix = sudo ? 'sudo ' : '';
  return `${prefix}apt-get update && ${prefix}apt-get install -y ${packages.join(' ')}`;
}

/**
 * Decides, for one prerequisite on one host: present, install it (root with apt-get), or stop
 * with the one command that installs it. Never "skip": a suite that needs it cannot run without it.
 */
export function planPrerequisite(prerequisite: Prerequisite, host: Host): PrerequisitePlan {
  const wanted = prerequisite.executables(host.env);
  const found = wanted.map((name) => findExecutable(name, host));
  const missing = wanted.filter((_, i) => found[i] === undefined);
  if (missing.length === 0) return { kind: 'present', paths: found as string[] };

  const what = `${prerequisite.label} is missing (${missing.join(', ')} not found): ${prerequisite.neededBy} needs it.`;
  const notInstallable = prerequisite.notInstallable(host.env);
  if (notInstallable !== undefined) return { kind: 'missing', message: `${what}\n${notInstallable}.` };

  const hasAptGet = findExecutable('apt-get', host) !== undefined;
  if (hasAptGet && host.isRoot) {
    const command = aptInstallCommand(prerequisite.aptPackages, false);
    return {
      kind: 'install',
      what,
      announcement: `${what} Installing it: ${command} (once; several minutes, a few hundred MB).`,
      aptPackages: prerequisite.aptPackages,
      command,
    };
  }
  const fix = hasAptGet
    ? aptInstallCommand(prerequisite.aptPackages, true)
    : `install ${prerequisite.label} with your system's package manager${prerequisite.name === 'chromium' ? ', then set CHROMIUM_PATH to its binary' : ''}`;
  return { kind: 'missing', message: `${what}\nInstall it with:\n\n  ${fix}\n` };
}

/** The real machine, for the script and for the tests that launch these executables. */
export function currentHost(env: PrerequisiteEnv = process.env): Host {
  return {
    env,
    isRoot: process.getuid?.() === 0,
    isExecutable: (path) => {
      try {
        accessSync(path, constants.X_OK);
        return statSync(path).isFile();
      } catch {
        return false;
      }
    },
  };
}
