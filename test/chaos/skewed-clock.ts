/**
 * Preloaded (`node --import`) into a chaos process whose host clock must be wrong: every
 * `Date.now()` (and `new Date()` without arguments) is shifted by `CLOCK_SKEW_MS`. Redis's
 * clock is untouched, as on a real host whose clock drifted. `performance.now()` keeps
 * running true: it is monotonic, not wall time.
 */
const skewMs = Number(process.env['CLOCK_SKEW_MS'] ?? 0);
if (!Number.isFinite(skewMs)) throw new Error(`CLOCK_SKEW_MS must be a number of ms, got ${process.env['CLOCK_SKEW_MS']}`);

if (skewMs !== 0) {
  const realNow = Date.now.bind(Date);
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args: ConstructorParameters<typeof Date> | []) {
      if (args.length === 0) super(realNow() + skewMs);
      else super(...(args as ConstructorParameters<typeof Date>));
    }

    static override now(): number {
      return realNow() + skewMs;
    }
  }
  globalThis.Date = SkewedDate as DateConstructor;
}
