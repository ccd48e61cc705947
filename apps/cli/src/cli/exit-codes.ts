/**
 * What the `kai-jobs` exit status means, for scripts and CI: 0 the command did what was
 * asked; 1 it ran but the outcome is a failure (a job failed, a drill failed, a doctor
 * check failed, Redis unreachable); 2 the command line or the configuration is wrong.
 */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
} as const;
/** One of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
