/** Resolves when `signal` is aborted (SIGTERM/SIGINT in the binary; the test's controller in tests). */
export function untilStopped(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
