import { COMMON_OPTIONS } from './args.js';
import type { CommandSpec, OptionSpec } from './command.js';

function optionLabel(name: string, option: OptionSpec): string {
  const short = option.short === undefined ? '    ' : `-${option.short}, `;
  const value = option.type === 'string' ? ` <${option.valueName ?? 'value'}>` : '';
  return `${short}--${name}${value}${option.multiple ? ' …' : ''}`;
}

function columns(rows: readonly [string, string][], indent = '  '): string[] {
  const width = Math.min(34, Math.max(...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) => (left.length > width ? `${indent}${left}\n${indent}${' '.repeat(width + 2)}${right}` : `${indent}${left.padEnd(width)}  ${right}`));
}

/** The `--help` text of one command. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: kai-jobs ${spec.usage}`, '', spec.description, ''];
  if (spec.positionals.length > 0) {
    lines.push('Arguments:', ...columns(spec.positionals.map((positional) => [`<${positional.name}>`, positional.description])), '');
  }
  const options = { ...spec.options, ...COMMON_OPTIONS };
  lines.push('Options:', ...columns(Object.entries(options).map(([name, option]) => [optionLabel(name, option), option.description])), '');
  if (spec.examples.length > 0) lines.push('Examples:', ...spec.examples.map((example) => `  ${example}`), '');
  lines.push('Exit codes: 0 ok, 1 failed, 2 bad usage or configuration.');
  return `${lines.join('\n')}\n`;
}

/** The top-level `kai-jobs --help` text. */
export function mainHelp(commands: readonly CommandSpec[]): string {
  return [
    'kai-jobs — operate kai-jobs: enqueue and inspect jobs, recover stuck work, check a deployment,',
    'and run the workers, the monitor and the board.',
    '',
    'Usage: kai-jobs <command> [arguments] [options]',
    '',
    'Commands:',
    ...columns(commands.map((command) => [command.name, command.summary])),
    '',
    'Every command takes --json (one JSON document on stdout) and --help.',
    'Configuration comes from the environment: REDIS_URL (default redis://127.0.0.1:6379), KAI_PREFIX',
    '(default kai), STATUS_STORE, … — see the README\'s configuration table.',
    '',
    'Examples:',
    '  kai-jobs start                                   # everything in one process, board on :3000',
    '  kai-jobs enqueue pdf --path ./catalogue.pdf --wait',
    '  kai-jobs list --stuck',
    '  kai-jobs doctor',
    '',
    'Run "kai-jobs <command> --help" for a command\'s options. Exit codes: 0 ok, 1 failed, 2 bad usage.',
    '',
  ].join('\n');
}
