/**
 * Variable interpolation in a Compose file, as Compose does it (compose-go `template` and
 * `interpolation` packages, v2.13.0): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?message}`, `${VAR?message}`, `${VAR:+alternative}`, `${VAR+alternative}`, `$$` for a
 * literal `$`, defaults that themselves hold variables (`${A:-${B:-x}}`). Only values are
 * interpolated, never keys. After substitution, the paths where Compose wants a number or a
 * boolean (`deploy.replicas`, `init`, …) are cast as Compose casts them, so `replicas: ${N:-3}`
 * validates as the integer it becomes.
 */

/** What a variable lookup sees: the environment Compose would read (`undefined` = unset). */
export type ComposeEnvironment = Readonly<Record<string, string | undefined>>;

/** A value of an interpolation, as a `${…}` expression or a cast got it wrong. */
export class ComposeInterpolationError extends Error {
  override readonly name = 'ComposeInterpolationError';

  /**
   * @param path where in the file, e.g. `services.worker.environment.SHUTDOWN_GRACE_MS`
   * @param problem what is wrong there
   */
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

/** The outcome of interpolating one file's model. */
export interface Interpolated {
  /** The model with every value substituted and cast. */
  readonly model: Record<string, unknown>;
  /** Compose's warnings: variables used without a default and not set, as `path: $NAME`. */
  readonly unsetVariables: readonly string[];
}

const NAME = /^[_a-z][_a-z0-9]*/i;
const BRACED = /^([_a-z][_a-z0-9]*)(?:(:?[-+?])([\s\S]*))?$/i;

type Cast = (value: string) => unknown;

const toInt: Cast = (value) => {
  if (!/^[+-]?\d+$/.test(value)) throw new Error(`"${value}" is not an integer`);
  return Number(value);
};
const toFloat: Cast = (value) => {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new Error(`"${value}" is not a number`);
  return number;
};
// compose-go accepts YAML 1.1's yes/no/on/off too (with a warning); so do we.
const toBoolean: Cast = (value) => {
  const lower = value.toLowerCase();
  if (['true', 'y', 'yes', 'on'].includes(lower)) return true;
  if (['false', 'n', 'no', 'off'].includes(lower)) return false;
  throw new Error(`"${value}" is not a boolean`);
};

/** compose-go's `interpolateTypeCastMapping`: `*` is any key, `[]` any list item. */
const CASTS: ReadonlyArray<readonly [readonly string[], Cast]> = [
  ...(
    [
      [['cpu_count'], toInt],
      [['cpu_percent'], toFloat],
      [['cpu_period'], toInt],
      [['cpu_quota'], toInt],
      [['cpu_rt_period'], toInt],
      [['cpu_rt_runtime'], toInt],
      [['cpus'], toFloat],
      [['cpu_shares'], toInt],
      [['init'], toBoolean],
      [['depends_on', '*', 'required'], toBoolean],
      [['depends_on', '*', 'restart'], toBoolean],
      [['deploy', 'replicas'], toInt],
      [['deploy', 'update_config', 'parallelism'], toInt],
      [['deploy', 'update_config', 'max_failure_ratio'], toFloat],
      [['deploy', 'rollback_config', 'parallelism'], toInt],
      [['deploy', 'rollback_config', 'max_failure_ratio'], toFloat],
      [['deploy', 'restart_policy', 'max_attempts'], toInt],
      [['deploy', 'placement', 'max_replicas_per_node'], toInt],
      [['healthcheck', 'retries'], toInt],
      [['healthcheck', 'disable'], toBoolean],
      [['oom_kill_disable'], toBoolean],
      [['oom_score_adj'], toInt],
      [['pids_limit'], toInt],
      [['ports', '[]', 'target'], toInt],
      [['privileged'], toBoolean],
      [['read_only'], toBoolean],
      [['scale'], toInt],
      [['stdin_open'], toBoolean],
      [['tty'], toBoolean],
      [['ulimits', '*'], toInt],
      [['ulimits', '*', 'hard'], toInt],
      [['ulimits', '*', 'soft'], toInt],
      [['volumes', '[]', 'read_only'], toBoolean],
      [['volumes', '[]', 'volume', 'nocopy'], toBoolean],
    ] as const
  ).map(([path, cast]) => [['services', '*', ...path], cast] as const),
  ...(['networks', 'volumes', 'secrets', 'configs'] as const).map((kind) => [[kind, '*', 'external'], toBoolean] as const),
  ...(['internal', 'attachable', 'enable_ipv4', 'enable_ipv6'] as const).map((flag) => [['networks', '*', flag], toBoolean] as const),
];

function castFor(path: readonly string[]): Cast | undefined {
  const match = CASTS.find(
    ([pattern]) =>
      pattern.length === path.length &&
      pattern.every((part, i) => part === path[i] || (part === '*' && path[i] !== '[]') || (part === '[]' && path[i] === '[]')),
  );
  return match?.[1];
}

/** Index of the `}` closing the `{` at `open`, counting nested braces; -1 if none. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Substitutes every variable in one string, as compose-go's `template.Substitute`.
 *
 * @param onUnset called with a variable's name when it is unset and has no default
 *   (Compose warns and uses an empty string)
 * @throws Error on an invalid `${…}` or a `?`/`:?` variable that is missing
 */
export function substitute(text: string, env: ComposeEnvironment, onUnset: (name: string) => void = () => {}): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next === '{') {
      const close = closingBrace(text, dollar + 1);
      const inner = close === -1 ? null : BRACED.exec(text.slice(dollar + 2, close));
      if (close === -1 || inner === null) throw new Error(`invalid interpolation format in "${text}" (a literal $ is written $$)`);
      out += resolveBraced(inner[1] as string, inner[2], inner[3] ?? '', env, onUnset);
      i = close + 1;
      continue;
    }
    const name = NAME.exec(text.slice(dollar + 1))?.[0];
    if (name === undefined) {
      // A `$` before anything else is kept as it is, as Compose keeps it.
      out += '$';
      i = dollar + 1;
      continue;
    }
    out += lookup(name, env, onUnset);
    i = dollar + 1 + name.length;
  }
  return out;
}

function lookup(name: string, env: ComposeEnvironment, onUnset: (name: string) => void): string {
  const value = env[name];
  if (value === undefined) onUnset(name);
  return value ?? '';
}

function resolveBraced(
  name: string,
  operator: string | undefined,
  argument: string,
  env: ComposeEnvironment,
  onUnset: (name: string) => void,
): string {
  const value = env[name];
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  switch (operator) {
    case undefined:
      return lookup(name, env, onUnset);
    case ':-':
      return nonEmpty ? value : substitute(argument, env, onUnset);
    case '-':
      return set ? value : substitute(argument, env, onUnset);
    case ':+':
      return nonEmpty ? substitute(argument, env, onUnset) : (value ?? '');
    case '+':
      return set ? substitute(argument, env, onUnset) : '';
    case ':?':
    case '?': {
      if (operator === ':?' ? nonEmpty : set) return value as string;
      const reason = substitute(argument, env, onUnset);
      throw new Error(`required variable ${name} is missing a value${reason === '' ? '' : `: ${reason}`}`);
    }
    default:
      throw new Error(`invalid interpolation operator "${operator}" for ${name}`);
  }
}

function pathText(path: readonly string[]): string {
  return path.join('.');
}

/**
 * Interpolates every value of a parsed Compose model (not its keys), then casts the values at
 * the paths where Compose wants a number or a boolean.
 *
 * @throws ComposeInterpolationError naming the first value that cannot be interpolated or cast
 */
export function interpolateModel(model: Record<string, unknown>, env: ComposeEnvironment): Interpolated {
  const unsetVariables: string[] = [];

  const visit = (value: unknown, path: string[], shownPath: string[]): unknown => {
    if (typeof value === 'string') {
      let result: string;
      try {
        result = substitute(value, env, (name) => unsetVariables.push(`${pathText(shownPath)}: $${name}`));
      } catch (error) {
        throw new ComposeInterpolationError(pathText(shownPath), (error as Error).message);
      }
      const cast = castFor(path);
      if (cast === undefined) return result;
      try {
        return cast(result);
      } catch (error) {
        throw new ComposeInterpolationError(pathText(shownPath), `failed to cast to expected type: ${(error as Error).message}`);
      }
    }
    if (Array.isArray(value)) return value.map((item, index) => visit(item, [...path, '[]'], [...shownPath, `[${index}]`]));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item, [...path, key], [...shownPath, key])]));
    }
    return value;
  };

  return { model: visit(model, [], []) as Record<string, unknown>, unsetVariables };
}
