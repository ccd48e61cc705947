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

type TransportFactory = typeof makeNodeTransport;

/** The id of a check-in envelope's check-in (its envelope header has no event id). */
function checkInIdOf(items: unknown): string | undefined {
  if (!Array.isArray(items)) return undefined;
  for (const item of items as unknown[]) {
    if (!Array.isArray(item)) continue;
    const [header, payload] = item as [{ type?: unknown } | undefined, { check_in_id?: unknown } | undefined];
    if (header?.type === 'check_in' && typeof payload?.check_in_id === 'string') return payload.check_in_id;
  }
  return undefined;
}

/**
 * Wraps a transport factory so each event envelope's outcome is reported by its event id (a
 * check-in's by its check-in id, so an `ok` can wait for its `in_progress` to be answered):
 * `delivered` true when Sentry answered 2xx, false on a network error, a deadline, a full
 * send queue or any other status. What the alert outbox waits for before marking an alert sent.
 */
export function trackDeliveries(factory: TransportFactory, report: (eventId: string, delivered: boolean) => void): TransportFactory {
  return (options) => {
    const inner = factory(options);
    return {
      ...inner,
      send: async (envelope) => {
        const eventId = (envelope[0] as { event_id?: unknown }).event_id ?? checkInIdOf(envelope[1] as unknown);
        const tell = (delivered: boolean): void => {
          if (typeof eventId === 'string') report(eventId, delivered);
        };
        try {
          const response = await inner.send(envelope);
          const status = response.statusCode;
          tell(status !== undefined && status >= 200 && status < 300);
          return response;
        } catch (error) {
          tell(false);
          throw error;
        }
      },
      flush: (timeout) => inner.flush(timeout),
    };
  };
}
