import { randomUUID } from 'node:crypto';
import { scrubSecrets, toError, type Logger } from '@kai-jobs/queue';
import {
  defaultStackParser,
  linkedErrorsIntegration,
  NodeClient,
  Scope,
  type Breadcrumb,
  type ErrorEvent,
  type EventHint,
  type SeverityLevel,
} from '@sentry/node';
import type { AlertInput, AlertKind } from './alert-kinds.js';
import type { AlertOutcome, CaptureContext, CheckInInput } from './alerter-types.js';
import { parseAlerterOptions, type AlerterOptions, type ResolvedAlerterOptions } from './alerter-options.js';
import { buildAlert } from './build-alert.js';
import { MemoryAlertDedupeStore, type AlertDedupeRef, type AlertDedupeStore } from './dedupe-store.js';
import { makeDeadlineTransport, trackDeliveries } from './sentry-transport.js';

/** Marks our own captures in the event hint, so `beforeSend` can apply exactly their tags and fingerprint. */
const EXACT = 'kaiJobsExact';
interface ExactFields {
  tags: Record<string, string>;
  fingerprint: string[] | undefined;
}

function newEventId(): string {
  return randomUUID().replace(/-/g, '');
}

function stringTags(tags: CaptureContext['tags']): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([key, value]) => [key, String(value)]));
}

/**
 * Sends alerts to Sentry through a dedicated client and scope — never `Sentry.init`, so
 * no global integration (uncaught-exception handlers, console, http breadcrumbs) is
 * installed and nothing reaches Sentry twice. Every capture returns at once and never
 * throws; events leave in the background with a per-request deadline, so an
 * unreachable Sentry never slows the caller. Without a DSN, alerts go to the log.
 */
export class Alerter {
  private readonly options: ResolvedAlerterOptions;
  private readonly logger: Logger;
  private readonly dedupeStore: AlertDedupeStore;
  private readonly client: NodeClient | null;
  private closing: Promise<boolean> | null = null;
  /** Outbox deliveries waiting for Sentry's answer, by event id. */
  private readonly awaitingDelivery = new Map<string, (delivered: boolean) => void>();
  /** `in_progress` check-ins on the wire, by id: settled once Sentry answered (or did not, in time). */
  private readonly inProgressSends = new Map<string, Promise<void>>();
  /** `ok`/`error` check-ins waiting for their `in_progress` to be answered before they are sent. */
  private readonly heldCheckIns = new Set<Promise<void>>();

  constructor(options: AlerterOptions = {}) {
    this.options = parseAlerterOptions(options);
    this.logger = this.options.logger.child({ component: 'alerter' });
    this.dedupeStore = this.options.dedupeStore ?? new MemoryAlertDedupeStore(this.options.clock);
    this.client = this.options.dsn === undefined ? null : this.createClient(this.options.dsn);
  }

  /** True when a DSN is configured and the alerter is not closed: captures go to Sentry. */
  get sendsToSentry(): boolean {
    return this.client !== null && this.closing === null;
  }

  private createClient(dsn: string): NodeClient {
    const client = new NodeClient({
      dsn,
      environment: this.options.environment,
      ...(this.options.release === undefined ? {} : { release: this.options.release }),
      ...(this.options.serverName === undefined ? {} : { serverName: this.options.serverName }),
      transport: trackDeliveries(makeDeadlineTransport(this.options.sendTimeoutMs), (eventId, delivered) => this.settleDelivery(eventId, delivered)),
      transportOptions: { bufferSize: this.options.maxQueuedEnvelopes },
      stackParser: defaultStackParser,
      // No default integrations: client.init() is never called, so none is set up.
      integrations: [],
      enableRuntimeChannelInjection: false,
      sendClientReports: false,
      normalizeDepth: 6,
      beforeSend: (event, hint) => this.beforeSend(event, hint),
      // Breadcrumbs recorded through the client are scrubbed when added; beforeSend scrubs
      // them again with the whole event, which also covers those merged from other scopes.
      beforeBreadcrumb: (breadcrumb: Breadcrumb) => scrubSecrets(breadcrumb),
    });
    // Error causes are worth sending; this integration only processes our own events.
    client.addIntegration(linkedErrorsIntegration());
    return client;
  }

  private beforeSend(event: ErrorEvent, hint: EventHint): ErrorEvent {
    const exact = (hint.data as Record<string, unknown> | undefined)?.[EXACT] as ExactFields | undefined;
    if (exact !== undefined) {
      event.tags = { ...exact.tags };
      if (exact.fingerprint !== undefined) event.fingerprint = [...exact.fingerprint];
    }
    // The whole event: message, exception (values, stack frames, causes), tags, contexts,
    // extra, fingerprint, breadcrumbs (ours and any merged from the global and isolation
    // scopes), request (url, query_string, headers, cookies) and user.
    return scrubSecrets(event);
  }

  /**
   * Sends one of the six alerts, once per job, attempt and reason (see the dedupe store).
   * Resolves quickly and never rejects; the event is delivered in the background.
   */
  async alert(input: AlertInput): Promise<AlertOutcome> {
    let built;
    try {
      built = buildAlert(input);
    } catch (error) {
      this.logger.error('an alert could not be built; it was not sent', {
        alertKind: String((input as { kind?: unknown }).kind),
        error: toError(error).message,
      });
      return { kind: input.kind, status: 'dropped', eventId: null, fingerprint: [], tags: {} };
    }
    // The outcome shows what Sentry receives: scrubbed like the event.
    const outcome = { kind: built.kind, fingerprint: scrubSecrets([...built.fingerprint]), tags: scrubSecrets(built.tags) };
    if (!(await this.claim({ kind: built.kind, ...built.dedupe }))) {
      this.logger.debug('alert already sent for this job, attempt and reason', {
        alertKind: built.kind,
        jobId: built.dedupe.jobId,
        attempt: built.dedupe.attempt,
        reason: built.dedupe.reason,
      });
      return { ...outcome, status: 'duplicate', eventId: null };
    }
    const context: CaptureContext = { tags: built.tags, contexts: built.contexts, fingerprint: built.fingerprint };
    const eventId =
      built.error === null
        ? this.emit(null, built.message, built.level, context, built.kind)
        : this.emit(built.error, built.message, built.level, context, built.kind);
    return { ...outcome, status: this.sendsToSentry ? 'sent' : 'logged', eventId };
  }

  /**
   * Delivers one alert of the outbox under the event id derived from its incident, and resolves
   * once Sentry answered: `delivered` true when Sentry took it (2xx) — the caller then marks it
   * sent — false when Sentry was unreachable, refused it or did not answer within `timeoutMs`
   * (it stays in the outbox and is sent again, under the same event id, so Sentry keeps one).
   * No dedupe claim: the outbox entry is the alert's identity. Without a DSN the alert is
   * logged, which counts as delivered. Never rejects.
   */
  async deliver(input: AlertInput, eventId: string, timeoutMs: number = this.options.sendTimeoutMs + 1_000): Promise<AlertOutcome & { delivered: boolean }> {
    let built;
    try {
      built = buildAlert(input);
    } catch (error) {
      this.logger.error('an outbox alert could not be built; it is dropped', {
        alertKind: String((input as { kind?: unknown }).kind),
        eventId,
        error: toError(error).message,
      });
      // Delivered in the sense that sending it again can never succeed: it leaves the outbox.
      return { kind: input.kind, status: 'dropped', eventId: null, fingerprint: [], tags: {}, delivered: true };
    }
    const outcome = { kind: built.kind, fingerprint: scrubSecrets([...built.fingerprint]), tags: scrubSecrets(built.tags) };
    const context: CaptureContext = { tags: built.tags, contexts: built.contexts, fingerprint: built.fingerprint };
    if (!this.sendsToSentry) {
      this.emit(built.error, built.message, built.level, context, built.kind, eventId);
      return { ...outcome, status: 'logged', eventId, delivered: true };
    }
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<boolean>((resolve) => {
      this.awaitingDelivery.set(eventId, resolve);
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    this.emit(built.error, built.message, built.level, context, built.kind, eventId);
    const delivered = await answered;
    clearTimeout(timer);
    this.awaitingDelivery.delete(eventId);
    return { ...outcome, status: 'sent', eventId, delivered };
  }

  /** Called by the transport with Sentry's answer to an event. */
  private settleDelivery(eventId: string, delivered: boolean): void {
    this.awaitingDelivery.get(eventId)?.(delivered);
  }

  /** Reports an exception with tags, extra, contexts and fingerprint; returns the event id. Never throws. */
  captureException(error: unknown, context: CaptureContext = {}): string {
    const normalized = toError(error);
    return this.emit(normalized, normalized.message, context.level ?? 'error', context, null);
  }

  /** Reports a message at `level` with tags, extra, contexts and fingerprint; returns the event id. Never throws. */
  captureMessage(message: string, level: SeverityLevel = 'info', context: CaptureContext = {}): string {
    return this.emit(null, message, level, context, null);
  }

  /**
   * A Sentry Crons check-in with the monitor's schedule and margin, so a monitor that
   * stops checking in is itself an alert. Returns the check-in id (pass it to the
   * finishing `ok`/`error` check-in). Never throws.
   */
  checkIn(input: CheckInInput): string {
    try {
      const schedule = { ...this.options.crons, ...input.schedule };
      if (this.client === null || this.closing !== null) {
        const id = input.checkInId ?? newEventId();
        this.logger.debug('cron check-in (Sentry not configured)', { monitorSlug: input.monitorSlug, status: input.status, checkInId: id });
        return id;
      }
      const monitorConfig = {
        schedule: { type: 'interval' as const, value: schedule.intervalMinutes, unit: 'minute' as const },
        checkinMargin: schedule.checkinMarginMinutes,
        maxRuntime: schedule.maxRuntimeMinutes,
        timezone: schedule.timezone,
        failureIssueThreshold: schedule.failureIssueThreshold,
        recoveryThreshold: schedule.recoveryThreshold,
      };
      const duration = input.durationMs === undefined ? {} : { duration: input.durationMs / 1000 };
      const scope = new Scope();
      scope.setClient(this.client);
      const client = this.client;
      if (input.status === 'in_progress') {
        const id = client.captureCheckIn({ monitorSlug: input.monitorSlug, status: 'in_progress' }, monitorConfig, scope);
        this.trackInProgress(id);
        return id;
      }
      const checkIn =
        input.checkInId === undefined
          ? { monitorSlug: input.monitorSlug, status: input.status, ...duration }
          : { monitorSlug: input.monitorSlug, status: input.status, checkInId: input.checkInId, ...duration };
      const opened = input.checkInId === undefined ? undefined : this.inProgressSends.get(input.checkInId);
      if (opened === undefined) return client.captureCheckIn(checkIn, monitorConfig, scope);
      // Its `in_progress` is still on the wire: sent now, the `ok` could reach Sentry first (two
      // requests race), which Sentry cannot pair. It follows once the `in_progress` is answered.
      const held = opened
        .then(() => {
          client.captureCheckIn(checkIn, monitorConfig, scope);
        })
        .catch((error: unknown) => this.logger.warn('cron check-in failed', { monitorSlug: input.monitorSlug, error: toError(error).message }))
        .finally(() => this.heldCheckIns.delete(held));
      this.heldCheckIns.add(held);
      return input.checkInId as string;
    } catch (error) {
      this.logger.warn('cron check-in failed', { monitorSlug: input.monitorSlug, error: toError(error).message });
      return input.checkInId ?? newEventId();
    }
  }

  /**
   * Remembers an `in_progress` check-in until Sentry answered it (the transport reports it by
   * check-in id) or `sendTimeoutMs` passed: its `ok`/`error` waits for that.
   */
  private trackInProgress(id: string): void {
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<void>((resolve) => {
      this.awaitingDelivery.set(id, () => resolve());
      timer = setTimeout(resolve, this.options.sendTimeoutMs + 1_000);
      timer.unref();
    }).finally(() => {
      clearTimeout(timer);
      this.awaitingDelivery.delete(id);
      this.inProgressSends.delete(id);
    });
    this.inProgressSends.set(id, answered);
  }

  /** Number of `ok`/`error` check-ins waiting for their `in_progress` to be answered (for tests and operators). */
  get heldCheckInCount(): number {
    return this.heldCheckIns.size;
  }

  /** The held `ok`/`error` check-ins, handed to the SDK. */
  private async releasedCheckIns(): Promise<boolean> {
    await Promise.all([...this.heldCheckIns]);
    return true;
  }

  /** Waits up to `timeoutMs` (default `flushTimeoutMs`) for pending events; false if some were still pending. */
  async flush(timeoutMs: number = this.options.flushTimeoutMs): Promise<boolean> {
    if (this.client === null) return true;
    const client = this.client;
    return this.bounded(this.releasedCheckIns().then(() => client.flush(timeoutMs)), timeoutMs);
  }

  /**
   * Flushes pending events (up to `flushTimeoutMs`) and stops sending; later captures go
   * to the log. Idempotent. Resolves false if some events were still pending.
   */
  close(): Promise<boolean> {
    if (this.closing === null) {
      const timeoutMs = this.options.flushTimeoutMs;
      const client = this.client;
      // Held check-ins first: each is handed to the SDK once its `in_progress` was answered.
      this.closing = client === null ? Promise.resolve(true) : this.bounded(this.releasedCheckIns().then(() => client.close(timeoutMs)), timeoutMs);
    }
    return this.closing;
  }

  /** `work`, but resolved false after `timeoutMs` (the SDK's own timeouts add up) and on error. */
  private async bounded(work: PromiseLike<boolean>, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs + 100);
      timer.unref();
    });
    try {
      return await Promise.race([Promise.resolve(work), deadline]);
    } catch (error) {
      this.logger.warn('flushing Sentry events failed', { error: toError(error).message });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Claims the dedupe key; on a store error or timeout the alert goes out anyway (fail open). */
  private async claim(ref: AlertDedupeRef): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        this.logger.warn('alert dedupe store did not answer in time; sending anyway', { ...ref });
        resolve(true);
      }, this.options.dedupeTimeoutMs);
    });
    try {
      return await Promise.race([this.dedupeStore.claim(ref, this.options.dedupeTtlMs), timeout]);
    } catch (error) {
      this.logger.warn('alert dedupe store failed; sending anyway', { ...ref, error: toError(error).message });
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends (or logs) one event. Never throws. */
  private emit(
    error: Error | null,
    message: string,
    level: SeverityLevel,
    context: CaptureContext,
    kind: AlertKind | null,
    eventId?: string,
  ): string {
    const tags = stringTags(context.tags);
    try {
      if (this.client === null || this.closing !== null) return this.logOnly(error, message, level, context, kind, tags, eventId);
      const scope = new Scope();
      scope.setClient(this.client);
      scope.setLevel(level);
      scope.setTags(tags);
      for (const [name, fields] of Object.entries(context.contexts ?? {})) scope.setContext(name, fields);
      if (context.extra !== undefined) scope.setExtras(context.extra);
      if (context.fingerprint !== undefined) scope.setFingerprint(context.fingerprint);
      for (const breadcrumb of context.breadcrumbs ?? []) scope.addBreadcrumb(scrubSecrets(breadcrumb));
      const exact: ExactFields = { tags, fingerprint: context.fingerprint };
      // An outbox alert's id is derived from its incident: a resend is the same Sentry event.
      const hint: EventHint = { ...(eventId === undefined ? {} : { event_id: eventId }), data: { [EXACT]: exact } };
      const sentId =
        error === null
          ? this.client.captureMessage(message, level, hint, scope)
          : this.client.captureException(error, { ...hint, originalException: error }, scope);
      this.logger.info(kind === null ? 'event sent to Sentry' : 'alert sent to Sentry', {
        ...(kind === null ? {} : { alertKind: kind }),
        eventId: sentId,
        level,
        fingerprint: context.fingerprint,
        tags: scrubSecrets(tags),
      });
      return sentId;
    } catch (failure) {
      this.logger.warn('capturing an event failed; logging it instead', { error: toError(failure).message });
      return this.logOnly(error, message, level, context, kind, tags, eventId);
    }
  }

  private logOnly(
    error: Error | null,
    message: string,
    level: SeverityLevel,
    context: CaptureContext,
    kind: AlertKind | null,
    tags: Record<string, string>,
    givenEventId?: string,
  ): string {
    const eventId = givenEventId ?? newEventId();
    const fields = scrubSecrets({
      sentry: this.client === null ? 'not configured' : 'closed',
      ...(kind === null ? {} : { alertKind: kind }),
      eventId,
      level,
      tags,
      fingerprint: context.fingerprint,
      contexts: context.contexts,
      extra: context.extra,
      breadcrumbs: context.breadcrumbs,
      ...(error === null ? {} : { error: { name: error.name, message: error.message } }),
    });
    const line = `${kind === null ? 'event' : 'alert'}: ${scrubSecrets(message)}`;
    if (level === 'fatal' || level === 'error') this.logger.error(line, fields);
    else if (level === 'warning') this.logger.warn(line, fields);
    else this.logger.info(line, fields);
    return eventId;
  }
}
