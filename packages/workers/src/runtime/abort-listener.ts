import { abortChannel, parseAbortRequest, toError, type AbortRequest, type Logger, type RedisClient } from '@kai-jobs/queue';

/**
 * Subscribes to the abort channel on a dedicated connection and hands each valid request
 * to `onRequest`. Requests for jobs this process does not run are ignored by the handler.
 */
export class AbortListener {
  private started = false;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly onRequest: (request: AbortRequest) => void,
  ) {}

  /** Subscribes; resolves once the subscription is active. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.subscriber.on('message', (_channel: string, message: string) => {
      const request = parseAbortRequest(message);
      if (request === undefined) {
        this.logger.warn('ignored a malformed abort request', { message: message.slice(0, 200) });
        return;
      }
      try {
        this.onRequest(request);
      } catch (error) {
        this.logger.error('abort request handler failed', { jobId: request.jobId, error: toError(error).message });
      }
    });
    await this.subscriber.subscribe(abortChannel(this.prefix));
  }
}
