import * as http from 'node:http';
import * as https from 'node:https';
import { makeNodeTransport } from '@sentry/node';

type NodeTransportOptions = Parameters<typeof makeNodeTransport>[0];
type HttpModule = NonNullable<NodeTransportOptions['httpModule']>;

/**
 * Node's `http` and `https` with a deadline on every request: the SDK's own transport
 * waits for an answer as long as the socket lives, so a Sentry that accepts connections
 * and never answers would fill the send queue and stall `flush()` for ever. After
 * `timeoutMs` the request is destroyed and the event counted as dropped.
 */
function httpModuleWithDeadline(timeoutMs: number): HttpModule {
  return {
    request(options, callback) {
      const isHttps =
        typeof options === 'string' || options instanceof URL
          ? String(options).startsWith('https:')
          : options.protocol === 'https:';
      const request = isHttps
        ? https.request(options as https.RequestOptions, callback)
        : http.request(options as http.RequestOptions, callback);
      const timer = setTimeout(() => {
        request.destroy(new Error(`Sentry did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      // The deadline must never keep the process alive on its own.
      timer.unref();
      request.once('close', () => clearTimeout(timer));
      return request;
    },
  };
}

/** A Sentry transport factory: the SDK's Node transport with a per-request deadline. */
export function makeDeadlineTransport(timeoutMs: number): typeof makeNodeTransport {
  const httpModule = httpModuleWithDeadline(timeoutMs);
  return (options) => makeNodeTransport({ ...options, httpModule });
}
