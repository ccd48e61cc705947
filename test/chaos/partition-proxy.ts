/**
 * A TCP proxy in front of the scenario's Redis for one process, so that process alone can be
 * cut off while it keeps running — a network partition, which neither `kill` nor a Redis
 * restart gives:
 * - `cut()`: every connection through the proxy is reset and new ones are refused, as when a
 *   host's link goes down and the kernel gives up; Redis sees the process's connections
 *   vanish (fast failover's case);
 * - `hold()`: connections stay open but nothing passes either way; what was sent waits in the
 *   proxy, as packets wait in a congested or partitioned network; Redis still lists the
 *   connections (the lock's case). `heal()` then delivers it all, late;
 * - `heal()`: back to forwarding.
 */
import { createConnection, createServer, type Socket } from 'node:net';

/** What the proxy does with traffic now. */
export type ProxyMode = 'open' | 'cut' | 'hold';

/** A running proxy. */
export interface PartitionProxy {
  /** `redis://127.0.0.1:<port>`: give this to the process to cut off. */
  readonly url: string;
  readonly mode: ProxyMode;
  /** Connections accepted since the start (reconnections count). */
  readonly accepted: number;
  cut(): void;
  hold(): void;
  heal(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Chunks held back while in `hold`, in order, with the socket each must go to. */
  held: { to: Socket; chunk: Buffer }[];
}

/** Starts a proxy on a spare local port in front of `127.0.0.1:<targetPort>`. */
export async function startPartitionProxy(targetPort: number): Promise<PartitionProxy> {
  let mode: ProxyMode = 'open';
  let accepted = 0;
  const pairs = new Set<Pair>();

  const drop = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const server = createServer((client) => {
    accepted += 1;
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    const forward = (to: Socket) => (chunk: Buffer) => {
      if (mode === 'hold') pair.held.push({ to, chunk });
      else if (mode === 'open') to.write(chunk);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    for (const socket of [client, upstream]) {
      socket.on('error', () => drop(pair));
      socket.on('close', () => drop(pair));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the partition proxy has no port');

  return {
    url: `redis://127.0.0.1:${address.port}`,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    cut() {
      mode = 'cut';
      for (const pair of [...pairs]) {
        pair.client.resetAndDestroy();
        drop(pair);
      }
    },
    hold() {
      mode = 'hold';
    },
    heal() {
      mode = 'open';
      for (const pair of pairs) {
        for (const { to, chunk } of pair.held.splice(0)) to.write(chunk);
      }
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
