import { createRequire } from 'node:module';
import type * as SupabaseJs from '@supabase/supabase-js';
import type { SupabaseClient, SupabaseClientOptions } from '@supabase/supabase-js';
import { z } from 'zod';
import { silentLogger, type Logger } from '../logger.js';
import { parseOrThrow } from '../validation.js';
import { rpcErrorToKaiError, type RpcFailure } from './supabase-rpc-errors.js';

/**
 * supabase-js, loaded the first time a Supabase adapter is built: every CLI command imports this
 * package, and supabase-js costs ~90 ms of start-up that a Redis-only command (`kai-jobs status`)
 * never needs. `require` keeps the construction synchronous (supabase-js ships CommonJS).
 */
function loadCreateClient(): typeof SupabaseJs.createClient {
  const requireFromHere = createRequire(import.meta.url);
  return (requireFromHere('@supabase/supabase-js') as typeof SupabaseJs).createClient;
}

/**
 * How to reach a Supabase project's kai-jobs functions: the options every Supabase adapter
 * (status, checkpoints, products, materials) shares. Adapters extend this schema.
 */
export const SupabaseConnectionOptionsSchema = z.object({
  /** The project URL, e.g. `https://<ref>.supabase.co` (the entry points read `SUPABASE_URL`). Required. */
  url: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of the Supabase project' }),
  /** The service role key (`SUPABASE_SERVICE_ROLE_KEY`): only the service role may write. Required. */
  serviceRoleKey: z.string().min(1, 'the service role key is required'),
  /** The schema holding the kai-jobs tables and functions (`SUPABASE_SCHEMA`). Default `public`. */
  schema: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected a schema name (letters, digits, "_")' })
    .default('public'),
  /** How long one RPC may take before it fails with a retryable `StoreError` (ms). Default 10000. */
  requestTimeoutMs: z.number().int().positive().default(10_000),
  /** Structured logger. Default: silent. */
  logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null).optional(),
}).strict();
/** What callers pass for {@link SupabaseConnectionOptionsSchema}. */
export type SupabaseConnectionOptions = z.input<typeof SupabaseConnectionOptionsSchema>;

/** supabase-js' `rpc`, narrowed to what the adapters use (no generated Database types). */
type RpcCall = (
  fn: string,
  args: Record<string, unknown>,
) => {
  abortSignal(signal: AbortSignal): PromiseLike<{ data: unknown; error: RpcFailure | null; status: number }>;
};

/**
 * The adapters never open a Realtime channel, but supabase-js builds a Realtime client anyway
 * and, on Node 20 (no global WebSocket), throws unless given a transport. This one fails if used.
 */
class RealtimeNotUsed {
  constructor() {
    throw new Error('the kai-jobs Supabase adapters do not use Supabase Realtime');
  }
}

/** What an RPC was for, to name it in errors and logs. */
export interface RpcPurpose {
  /** The adapter's operation, e.g. `progress`, `checkpoint pdf_loaded`. */
  operation: string;
  jobId?: string;
}

/**
 * One supabase-js client, created the way every kai-jobs adapter needs it — the service key,
 * no session to keep or refresh, no Realtime — and a `call` that runs one SQL function with
 * `.rpc()` under a timeout and turns a failure into the matching kai-jobs error (see
 * {@link rpcErrorToKaiError}): the SQL functions' `KJ` states become `StaleFenceError`,
 * `InvalidTransitionError`, …, network failures and 5xx retryable `StoreError`s.
 */
export class SupabaseRpcClient {
  private readonly client: SupabaseClient;
  private readonly rpcCall: RpcCall;
  /** The project URL (no key), for messages. */
  readonly url: string;
  private readonly requestTimeoutMs: number;
  private readonly logger: Logger;

  /** `component` names the adapter in log lines (e.g. `supabase-checkpoint-store`). */
  constructor(options: SupabaseConnectionOptions, component: string) {
    const parsed = parseOrThrow(SupabaseConnectionOptionsSchema, options, 'Supabase connection options');
    this.url = parsed.url;
    this.requestTimeoutMs = parsed.requestTimeoutMs;
    this.logger = (parsed.logger ?? silentLogger).child({ component });
    this.client = loadCreateClient()(parsed.url, parsed.serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      db: { schema: parsed.schema },
      global: { headers: { 'X-Client-Info': 'kai-jobs' } },
      realtime: { transport: RealtimeNotUsed as unknown as NonNullable<SupabaseClientOptions<string>['realtime']>['transport'] },
    }) as unknown as SupabaseClient;
    this.rpcCall = this.client.rpc.bind(this.client) as unknown as RpcCall;
  }

  /** Calls SQL function `fn` in one RPC (one transaction); a failure becomes the matching kai-jobs error. */
  async call(fn: string, args: Record<string, unknown>, purpose: RpcPurpose): Promise<unknown> {
    const { data, error, status } = await this.rpcCall(fn, args).abortSignal(AbortSignal.timeout(this.requestTimeoutMs));
    if (error !== null) {
      const mapped = rpcErrorToKaiError(error, status, { ...purpose, fn, url: this.url });
      if (mapped.name === 'StoreError') {
        this.logger.warn('Supabase RPC failed', {
          fn,
          operation: purpose.operation,
          jobId: purpose.jobId,
          status,
          code: error.code,
          error: mapped.message,
        });
      }
      throw mapped;
    }
    return data;
  }

  /** Makes sure no Realtime channel is left (none is ever opened); there is no session to end. */
  async close(): Promise<void> {
    await this.client.removeAllChannels();
  }
}
