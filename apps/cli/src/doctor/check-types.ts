/** The verdict of one doctor check. */
export const CheckStatus = {
  Ok: 'ok',
  Warn: 'warn',
  Fail: 'fail',
} as const;
/** One of {@link CheckStatus}. */
export type CheckStatus = (typeof CheckStatus)[keyof typeof CheckStatus];

/** One line of `kai-jobs doctor`. */
export interface CheckResult {
  /** Stable name, e.g. `redis`, `workers:pdf-processing`. */
  name: string;
  status: CheckStatus;
  /** What was found. */
  message: string;
  /** What to do about it (null when ok). */
  fix: string | null;
}

/** Builds a result. */
export const check = (name: string, status: CheckStatus, message: string, fix: string | null = null): CheckResult => ({ name, status, message, fix });
