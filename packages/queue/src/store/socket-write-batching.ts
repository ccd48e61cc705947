import type { Duplex } from 'node:stream';
import { Redis } from 'ioredis';
import type { RedisClient } from '../connection.js';

const batched = new WeakSet<Duplex>();

/**
 * Makes a standalone connection send the commands issued in one turn of the event loop in one
 * socket write (one `writev` system call) instead of one write per command: the socket is
 * corked at the turn's first write and uncorked once the turn's callbacks and promise
 * continuations have run (`process.nextTick`, as ioredis' own auto-pipelining schedules its
 * flush). Replies, their order and error handling are ioredis' as before — only the write
 * calls are merged. Why: 50 concurrent jobs each send their claim, checkpoint and completion
 * scripts from promise continuations; on the worker runtime's connections a write system call
 * per command was 10–15 % of the process's CPU (`node --cpu-prof`, bench/README.md). ioredis'
 * `enableAutoPipelining` would do the same but wraps defined script commands in a pipeline
 * (see worker-runtime.ts on why the runtime does not use it). Applied again on each reconnect
 * (a new socket); a Redis Cluster client is left as it is (its node connections are its own).
 */
export function batchSocketWrites(client: RedisClient): void {
  if (!(client instanceof Redis)) return;
  const patch = (): void => {
    const socket = (client as unknown as { stream?: Duplex }).stream;
    if (socket === undefined || batched.has(socket)) return;
    batched.add(socket);
    const write = socket.write;
    let corked = false;
    const uncork = (): void => {
      corked = false;
      socket.uncork();
    };
    socket.write = function batchedWrite(this: Duplex, ...args: unknown[]): boolean {
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    } as Duplex['write'];
  };
  client.on('connect', patch);
  patch();
}
