import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { closestMatch } from './suggest.js';
import type { CommandSpec, OptionSpec, OptionValueRule } from './command.js';

/** Flags every command accepts. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean', description: 'print one machine-readable JSON document on stdout (one line; indented on a terminal)' },
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
    return this.checked(name, { kind: 'int', ...bounds }) as number | undefined;
  }

  /** The flag's value as a number (decimals allowed) within the bounds, or undefined. */
  number(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    return this.checked(name, { kind: 'number', ...bounds }) as number | undefined;
  }

  /** The flag's value, which must be one of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    return this.checked(name, { kind: 'choice', choices }) as T | undefined;
  }

  private checked(name: string, rule: OptionValueRule): number | string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const problem = valueProblem(name, raw, rule);
    if (problem !== null) throw new UsageError(problem, this.command);
    return rule.kind === 'choice' ? raw : Number(raw);
  }

  /** The positional argument at `index`. */
  positional(index: number): string | undefined {
    return this.positionals[index];
  }
}

function flagName(token: string): string {
  return token.slice(2).split('=')[0] ?? '';
}

function rangeText(rule: { min?: number; max?: number }, whole: boolean): string {
  const kind = whole ? 'a whole number' : 'a number';
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} from ${rule.min} to ${rule.max}`;
  if (rule.min !== undefined) return `${kind} of at least ${rule.min}`;
  if (rule.max !== undefined) return `${kind} of at most ${rule.max}`;
  return kind;
}

/**
 * What is wrong with `raw` as the value of `--name` under `rule`, in one sentence that names
 * the flag, what it expects and what it got; null when it is fine.
 */
export function valueProblem(name: string, raw: string, rule: OptionValueRule): string | null {
  switch (rule.kind) {
    case 'int': {
      const value = Number(raw);
      const ok = /^-?\d+$/.test(raw.trim()) && Number.isSafeInteger(value) && value >= (rule.min ?? -Infinity) && value <= (rule.max ?? Infinity);
      return ok ? null : `--${name} expects ${rangeText(rule, true)}, got "${raw}"`;
    }
    case 'number': {
      const value = Number(raw);
      const ok = raw.trim() !== '' && Number.isFinite(value) && value >= (rule.min ?? -Infinity) && value <= (rule.max ?? Infinity);
      return ok ? null : `--${name} expects ${rangeText(rule, false)}, got "${raw}"`;
    }
    case 'choice': {
      if (rule.choices.includes(raw)) return null;
      const meant = closestMatch(raw, rule.choices);
      return `--${name} must be one of ${rule.choices.join(', ')}; got "${raw}"${meant === undefined ? '' : ` (did you mean ${meant}?)`}`;
    }
    default: {
      const exhaustive: never = rule;
      return `--${name}: unknown rule ${String(exhaustive)}`;
    }
  }
}

/** A word that is a value, not a flag, even though it starts with a dash: `-1`, `-0.5`. */
const NEGATIVE_NUMBER = /^-(?:\d|\.\d)/;

/**
 * Checks the words of a command line before `node:util` parses them, collecting every
 * problem instead of stopping at the first: unknown flags, string flags without a value.
 * Returns the words to parse, with a negative number after a string flag joined to it
 * (`--priority -1` becomes `--priority=-1`), so its value is checked by the flag's rule
 * rather than refused by Node's parser as an ambiguous flag.
 */
function prescan(spec: CommandSpec, options: Readonly<Record<string, OptionSpec>>, argv: readonly string[], problems: string[]): string[] {
  const names = Object.keys(options);
  const shorts = new Map(
    Object.entries(options)
      .filter(([, option]) => option.short !== undefined)
      .map(([name, option]) => [option.short as string, name]),
  );
  const words: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string;
    if (token === '--') {
      words.push(...argv.slice(index));
      break;
    }
    let name: string | undefined;
    if (token.startsWith('--')) {
      name = flagName(token);
      if (!(name in options)) {
        const meant = closestMatch(name, names);
        problems.push(`unknown flag --${name} for "kai-jobs ${spec.name}"${meant === undefined ? '' : ` — did you mean --${meant}?`}`);
        // A misspelt string flag's value is not an argument either (one problem, not two).
        const next = argv[index + 1];
        const takesValue = meant !== undefined && options[meant]?.type === 'string';
        if (takesValue && !token.includes('=') && next !== undefined && (!next.startsWith('-') || NEGATIVE_NUMBER.test(next))) index++;
        continue;
      }
    } else if (/^-[A-Za-z]/.test(token)) {
      name = shorts.get(token.slice(1, 2));
      if (name === undefined) {
        problems.push(`unknown flag ${token} for "kai-jobs ${spec.name}"`);
        continue;
      }
    }
    const option = name === undefined ? undefined : options[name];
    if (option?.type === 'string' && !token.includes('=') && (token.startsWith('--') || token.length === 2)) {
      const next = argv[index + 1];
      if (next === undefined || (next.startsWith('-') && !NEGATIVE_NUMBER.test(next))) {
        problems.push(`--${name as string}: argument missing (expects ${expectedText(option)})`);
        continue;
      }
      words.push(`--${name as string}=${next}`);
      index++;
      continue;
    }
    words.push(token);
  }
  return words;
}

function expectedText(option: OptionSpec): string {
  const rule = option.value;
  if (rule === undefined) return `<${option.valueName ?? 'value'}>`;
  if (rule.kind === 'choice') return `one of ${rule.choices.join(', ')}`;
  return rangeText(rule, rule.kind === 'int');
}

/**
 * Parses `argv` (the words after the command name) against `spec` with `node:util`'s
 * strict parser, after checking every word and every declared flag value. All problems —
 * unknown flags (with the closest known one), flags without a value, values out of range or
 * not among the choices, a missing or extra positional argument — are reported together in
 * one {@link UsageError}.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options = { ...spec.options, ...COMMON_OPTIONS };
  const problems: string[] = [];
  const words = prescan(spec, options, argv, problems);
  let parsed;
  try {
    parsed = parseArgs({
      args: words,
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
    // What the prescan cannot see, e.g. a value given to a boolean flag (--wait=yes).
    const message = (error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '');
    throw UsageError.of([...problems, message], spec.name);
  }
  const args = new ParsedArgs(spec.name, parsed.values as Record<string, RawValue>, parsed.positionals);
  if (args.flag('help') && problems.length === 0) return args;
  for (const [name, option] of Object.entries(options)) {
    if (option.value === undefined) continue;
    for (const raw of args.list(name)) {
      const problem = valueProblem(name, raw, option.value);
      if (problem !== null) problems.push(problem);
    }
  }
  const required = spec.positionals.filter((positional) => positional.required);
  if (parsed.positionals.length < required.length) {
    const missing = required[parsed.positionals.length] as { name: string };
    problems.push(`missing <${missing.name}>: usage is "kai-jobs ${spec.usage}"`);
  }
  if (parsed.positionals.length > spec.positionals.length) {
    const extra = parsed.positionals[spec.positionals.length] as string;
    problems.push(`unexpected argument "${extra}": usage is "kai-jobs ${spec.usage}"`);
  }
  if (problems.length > 0) throw UsageError.of(problems, spec.name);
  return args;
}
