import type { PostgrestEndpoint, RpcCallRecord } from './postgrest-endpoint.js';

/** An endpoint a test can take down (connections refused) and bring back on the same port — a Supabase outage. */
export interface RestartableEndpoint {
  /** The base URL: the same before and after a restart. */
  readonly url: string;
  readonly port: number;
  /** True while listening. */
  readonly isUp: boolean;
  /** Every RPC served, across restarts, in order. */
  readonly calls: readonly RpcCallRecord[];
  /** Stops listening and drops open connections: calls are refused until {@link start}. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

/**
 * Wraps an endpoint factory (`stack.startEndpoint`) so the endpoint can be stopped and started
 * again on the same port: what supabase-js sees of an outage — connections refused, then the
 * same URL answering again.
 */
export async function startRestartableEndpoint(start: (port?: number) => Promise<PostgrestEndpoint>): Promise<RestartableEndpoint> {
  let current: PostgrestEndpoint | null = await start();
  const port = current.port;
  const url = current.url;
  const calls: RpcCallRecord[] = [];
  let seen = 0;
  const collect = (): void => {
    if (current === null) return;
    calls.push(...current.calls.slice(seen));
    seen = current.calls.length;
  };
  const endpoint: RestartableEndpoint = {
    url,
    port,
    get isUp() {
      return current !== null;
    },
    get calls() {
      collect();
      return calls;
    },
    async stop() {
      if (current === null) return;
      collect();
      const stopping = current;
      current = null;
      seen = 0;
      await stopping.close();
    },
    async start() {
      if (current !== null) return;
      current = await start(port);
      seen = 0;
    },
    async close() {
      await endpoint.stop();
    },
  };
  return endpoint;
}
