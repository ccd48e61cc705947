/**
 * Run by the test scripts before vitest (`node --import tsx scripts/ensure-test-prerequisites.ts
 * chromium && vitest run`): makes sure what npm cannot bring is on the machine.
 *
 *   chromium       Debian's Chromium (/usr/bin/chromium, or CHROMIUM_PATH), for the browser test
 *   redis-server   redis-server and redis-cli, for the chaos suite and the cluster run
 *
 * Present: says nothing. Missing, as root with apt-get: prints one line saying what it
 * installs, installs it, checks it is there. Otherwise: exits 1 at once with the one command
 * that installs it. The same under CI=true: a suite never skips what it needs.
 */
import { spawnSync } from 'node:child_process';
import { currentHost, planPrerequisite, PREREQUISITES } from '../test/setup/prerequisites.js';

const SELF = 'ensure-test-prerequisites';

function fail(message: string): never {
  process.stderr.write(`\n${SELF}: ${message}\n`);
  process.exit(1);
}

/** Runs apt-get quietly; on failure prints what it said and stops. */
function aptGet(args: readonly string[]): void {
  const result = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    fail(`apt-get ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}):\n${output}`);
  }
}

const names = process.argv.slice(2);
if (names.length === 0) fail(`usage: ${SELF} ${Object.keys(PREREQUISITES).join('|')} ...`);
const unknown = names.filter((name) => PREREQUISITES[name] === undefined);
if (unknown.length > 0) fail(`unknown prerequisite ${unknown.join(', ')}; known: ${Object.keys(PREREQUISITES).join(', ')}`);

let aptUpdated = false;
for (const name of names) {
  const prerequisite = PREREQUISITES[name];
  if (prerequisite === undefined) continue;
  const plan = planPrerequisite(prerequisite, currentHost());
  if (plan.kind === 'present') continue;
  if (plan.kind === 'missing') fail(plan.message);

  process.stdout.write(`${SELF}: ${plan.announcement}\n`);
  if (!aptUpdated) {
    aptGet(['update', '-qq']);
    aptUpdated = true;
  }
  aptGet(['install', '-y', '-qq', ...plan.aptPackages]);
  const after = planPrerequisite(prerequisite, currentHost());
  if (after.kind !== 'present') {
    fail(`${plan.command} succeeded, but ${prerequisite.label} is still missing:\n${after.kind === 'missing' ? after.message : ''}`);
  }
}
