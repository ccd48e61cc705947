import { createServer } from 'node:net';
import type { PdfPayloadInput } from '@kai-jobs/queue';
import { chromium, type Browser } from 'playwright-core';

export type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RedisTestContext } from '@kai-jobs/queue/testing';
import { CHROMIUM_PREREQUISITE, chromiumPath, currentHost, planPrerequisite } from '../../../test/setup/prerequisites.js';
import { startBoard, type RunningBoard, type StartBoardOptionsInput } from '../src/index.js';

/** The test board's credentials (placeholders, only ever used against 127.0.0.1). */
export const USER = 'operator';
export const PASSWORD = 'test-password-not-a-secret';
export const TOKEN = 'test-token-not-a-secret';

/** `Authorization` header for HTTP basic auth. */
export function basicAuth(user = USER, password = PASSWORD): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Headers authenticating as the test operator. */
export const AUTH = { authorization: basicAuth() };

/** Starts a board on 127.0.0.1 with a free port, the test's prefix and credentials; closed after the test. */
export async function startTestBoard(ctx: RedisTestContext, overrides: StartBoardOptionsInput = {}): Promise<RunningBoard> {
  const board = await startBoard({
    port: 0,
    host: '127.0.0.1',
    redis: ctx.redisOptions,
    auth: { username: USER, password: PASSWORD, token: TOKEN },
    ...overrides,
  });
  return ctx.manage('board', board);
}

/** A port on 127.0.0.1 where nothing listens (for an unreachable Redis). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A valid PDF payload. */
export function pdfPayload(documentId = 'doc-1'): PdfPayloadInput {
  return { documentId, source: { kind: 'url', url: 'https://cdn.example.com/catalogue.pdf' } };
}

/** Debian's Chromium, driven by playwright-core (no downloaded browser). */
export const CHROMIUM = chromiumPath();
/** The flags every browser test runs Chromium with. */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

/** Launches the system Chromium headless; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  // Run alone (`pnpm exec vitest run <file>`) a test has no script before it: say what is
  // missing and how to install it, instead of playwright's "executable doesn't exist".
  const plan = planPrerequisite(CHROMIUM_PREREQUISITE, currentHost());
  if (plan.kind === 'missing') return Promise.reject(new Error(plan.message));
  if (plan.kind === 'install') return Promise.reject(new Error(`${plan.what}\n\`pnpm test\` installs it, or: ${plan.command}`));
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}
