import { toError } from '@kai-jobs/queue';
import { envValue, type Environment } from '../config/cli-env.js';
import { check, CheckStatus, type CheckResult } from './check-types.js';

/** Longest wait for one provider's answer (ms). */
const PROBE_TIMEOUT_MS = 5000;

/** One external service the workers call, as the worker's environment configures it. */
interface ProviderSpec {
  /** The check's name. */
  name: string;
  /** What it is, for messages. */
  label: string;
  /** The variables that configure it, the URL first, the key second (all or none, as the worker requires). */
  variables: readonly string[];
  /** The cheap authenticated request: nothing is generated, nothing is billed. */
  request(values: Record<string, string>): { url: string; headers: Record<string, string>; what: string };
  /** A 404 means the key passed (the service authenticates first) but what was asked for is missing. */
  notFound(values: Record<string, string>): { message: string; fix: string };
}

const PROVIDERS: readonly ProviderSpec[] = [
  {
    name: 'firecrawl',
    label: 'Firecrawl',
    variables: ['FIRECRAWL_URL', 'FIRECRAWL_API_KEY'],
    request: (v) => ({
      url: `${trim(v['FIRECRAWL_URL'])}/v1/team/credit-usage`,
      headers: { authorization: `Bearer ${v['FIRECRAWL_API_KEY']}` },
      what: 'GET /v1/team/credit-usage',
    }),
    notFound: () => ({
      message: 'answers but has no /v1/team/credit-usage (HTTP 404): the key could not be checked',
      fix: 'check FIRECRAWL_URL: the API root without /v1, e.g. https://api.firecrawl.dev',
    }),
  },
  {
    name: 'llm',
    label: 'the materials LLM (Anthropic Messages API)',
    variables: ['MATERIALS_LLM_URL', 'MATERIALS_LLM_API_KEY', 'MATERIALS_LLM_MODEL'],
    request: (v) => ({
      url: `${trim(v['MATERIALS_LLM_URL'])}/v1/models/${encodeURIComponent(v['MATERIALS_LLM_MODEL'] as string)}`,
      headers: { 'x-api-key': v['MATERIALS_LLM_API_KEY'] as string, 'anthropic-version': '2023-06-01' },
      what: 'GET /v1/models/<model>',
    }),
    notFound: (v) => ({
      message: `accepted the key but has no model "${v['MATERIALS_LLM_MODEL']}" (HTTP 404)`,
      fix: 'set MATERIALS_LLM_MODEL to a model the key can use (or check MATERIALS_LLM_URL: the API root without /v1)',
    }),
  },
  {
    name: 'embeddings',
    label: 'the embeddings API (OpenAI-compatible)',
    variables: ['EMBEDDINGS_URL', 'EMBEDDINGS_API_KEY', 'EMBEDDINGS_MODEL'],
    request: (v) => ({
      url: `${trim(v['EMBEDDINGS_URL'])}/models/${encodeURIComponent(v['EMBEDDINGS_MODEL'] as string)}`,
      headers: { authorization: `Bearer ${v['EMBEDDINGS_API_KEY']}` },
      what: 'GET /models/<model>',
    }),
    notFound: (v) => ({
      message: `accepted the key but has no model "${v['EMBEDDINGS_MODEL']}" (HTTP 404)`,
      fix: 'set EMBEDDINGS_MODEL to a model the key can use (or check EMBEDDINGS_URL: the API root including /v1)',
    }),
  },
];

function trim(url: string | undefined): string {
  return (url ?? '').replace(/\/+$/, '');
}

/**
 * The external services the workers depend on, each only when configured: reachable, and its
 * key accepted — one cheap authenticated request (a credit or model lookup, nothing generated).
 * 401/403 → "key refused" naming the variable to set. Keys are never printed.
 */
export async function checkProviders(env: Environment, timeoutMs = PROBE_TIMEOUT_MS): Promise<CheckResult[]> {
  return Promise.all(PROVIDERS.map((provider) => checkProvider(provider, env, timeoutMs)));
}

async function checkProvider(spec: ProviderSpec, env: Environment, timeoutMs: number): Promise<CheckResult> {
  const values: Record<string, string> = {};
  for (const name of spec.variables) {
    const value = envValue(env, name);
    if (value !== undefined) values[name] = value;
  }
  const missing = spec.variables.filter((name) => values[name] === undefined);
  const [urlVariable, keyVariable] = spec.variables as [string, string];
  if (missing.length === spec.variables.length) return check(spec.name, CheckStatus.Ok, `not configured (${urlVariable} unset)`);
  if (missing.length > 0) {
    return check(spec.name, CheckStatus.Fail, `partly configured: ${missing.join(', ')} missing (the workers refuse to start)`, `set all of ${spec.variables.join(', ')}, or none`);
  }
  let target: URL;
  try {
    target = new URL(values[urlVariable] as string);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`scheme ${target.protocol}`);
  } catch (error) {
    return check(spec.name, CheckStatus.Fail, `${urlVariable} is not an http(s) URL (${toError(error).message})`, `set ${urlVariable} to the API root, e.g. https://…`);
  }
  const request = spec.request(values);
  const where = `${spec.label} at ${target.origin}`;
  let response: Response;
  try {
    response = await fetch(request.url, { headers: request.headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (error) {
    const reason = (error as { name?: string }).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeFetchError(error);
    return check(spec.name, CheckStatus.Fail, `${where} is unreachable: ${reason}`, `check ${urlVariable} and that this host can reach it`);
  }
  // Only the status matters; the body (credit figures, model details) is not kept.
  await response.body?.cancel().catch(() => undefined);
  const { status } = response;
  if (status >= 200 && status < 300) return check(spec.name, CheckStatus.Ok, `${where} accepted the key (${request.what}: HTTP ${status})`);
  if (status === 401 || status === 403) {
    return check(spec.name, CheckStatus.Fail, `${where} answers, but the key was refused (HTTP ${status})`, `set ${keyVariable} to a valid key`);
  }
  if (status === 404) {
    const { message, fix } = spec.notFound(values);
    return check(spec.name, CheckStatus.Fail, `${where} ${message}`, fix);
  }
  if (status === 429) return check(spec.name, CheckStatus.Warn, `${where} accepted the request but is rate-limiting (HTTP 429)`, 'retry later; the workers back off on 429');
  return check(spec.name, CheckStatus.Fail, `${where} answered HTTP ${status} to ${request.what}`, `check ${urlVariable} and the service's status`);
}

function describeFetchError(error: unknown): string {
  const err = toError(error);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}
