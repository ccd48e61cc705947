import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { closestMatch } from './suggest.js';
import type { CommandSpec, OptionSpec } from './command.js';

/** Flags every command accepts. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', description: 'print one machine-readable JSON document on stdout' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

type RawValue = string | boolean | string[] | boolean[] | undefined;

/** A command line parsed against a {@link CommandSpec}, with typed accessors that throw {@link UsageError}. */
export class ParsedArgs {
  constructor(
    private readonly command: string,
    readonly values: Readonly<Record<string, RawValue>>,
    readonly positionals: readonly string[],
  ) {}

  /** True when the boolean flag was given. */
  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** The string flag's value, or undefined. */
  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** Every value of a repeatable string flag, in order. */
  list(name: string): string[] {
    const value = this.values[name];
    return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
  }

  /** The flag's value as a whole number within `[min, max]`, or undefined when not given. */
  int(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const min = bounds.min ?? Number.MIN_SAFE_INTEGER;
    const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
      const range = bounds.max === undefined ? `at least ${min}` : `from ${min} to ${max}`;
      throw new UsageError(`--${name} expects a whole number ${range}, got "${raw}"`, this.command);
    }
    return Number(raw);
  }

  /** The flag's value as a positive number (decimals allowed), or undefined. */
  number(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < (bounds.min ?? -Infinity) || value > (bounds.max ?? Infinity)) {
      throw new UsageError(`--${name} expects a number${bounds.min === undefined ? '' : ` ≥ ${bounds.min}`}${bounds.max === undefined ? '' : ` ≤ ${bounds.max}`}, got "${raw}"`, this.command);
    }
    return value;
  }

  /** The flag's value, which must be one of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    const meant = closestMatch(raw, choices);
    throw new UsageError(
      `--${name} must be one of ${choices.join(', ')}; got "${raw}"${meant === undefined ? '' : ` (did you mean ${meant}?)`}`,
      this.command,
    );
  }

  /** The positional argument at `index`. */
  positional(index: number): string | undefined {
    return this.positionals[index];
  }
}

function flagName(token: string): string {
  return token.slice(2).split('=')[0] ?? '';
}

/**
 * Parses `argv` (the words after the command name) against `spec` with `node:util`'s
 * strict parser. An unknown flag is reported with the closest known one; a missing or
 * extra positional argument with the command's synopsis.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options = { ...spec.options, ...COMMON_OPTIONS };
  const names = Object.keys(options);
  for (const token of argv) {
    if (token === '--') break;
    if (token.startsWith('--')) {
      const name = flagName(token);
      if (!(name in options)) {
        const meant = closestMatch(name, names);
        throw new UsageError(
          `unknown flag --${name} for "kai-jobs ${spec.name}"${meant === undefined ? '' : ` — did you mean --${meant}?`}`,
          spec.name,
        );
      }
    } else if (/^-[A-Za-z]/.test(token)) {
      const shorts = Object.values(options).map((option) => option.short).filter((short): short is string => short !== undefined);
      const letter = token.slice(1, 2);
      if (!shorts.includes(letter)) throw new UsageError(`unknown flag ${token} for "kai-jobs ${spec.name}"`, spec.name);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(options).map(([name, option]) => [
          name,
          { type: option.type, ...(option.short === undefined ? {} : { short: option.short }), ...(option.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = (error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '');
    throw new UsageError(`${message} (kai-jobs ${spec.name})`, spec.name);
  }
  const args = new ParsedArgs(spec.name, parsed.values as Record<string, RawValue>, parsed.positionals);
  if (args.flag('help')) return args;
  const required = spec.positionals.filter((positional) => positional.required);
  if (parsed.positionals.length < required.length) {
    const missing = required[parsed.positionals.length] as { name: string };
    throw new UsageError(`missing <${missing.name}>: usage is "kai-jobs ${spec.usage}"`, spec.name);
  }
  if (parsed.positionals.length > spec.positionals.length) {
    const extra = parsed.positionals[spec.positionals.length] as string;
    throw new UsageError(`unexpected argument "${extra}": usage is "kai-jobs ${spec.usage}"`, spec.name);
  }
  return args;
}
