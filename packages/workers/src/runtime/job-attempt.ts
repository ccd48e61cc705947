import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import {
  HandBackKind,
  hasErrorCode,
  isDrillPayload,
  isKaiJobsError,
  processingFailureAlert,
  decideAttemptFailure,
  jobCatalog,
  RecoveryAction,
  QueueErrorCode,
  refsOfPayload,
  scrubErrorInPlace,
  toError,
  ValidationError,
  zodIssuesToFieldIssues,
  type Clock,
  type JobType,
  type Logger,
  type MetricsRecorder,
  type Payload,
  type ProgressUpdate,
  type StatusRow,
  type JobStore,
} from '@kai-jobs/queue';
import { latestValidCheckpoints, type JobRef, type SaveCheckpointInput, type StageSpec } from '@kai-jobs/checkpoint';
import { scopeArtifactStore, type ArtifactStore } from '../artifacts/artifact-store.js';
import type { CpuPool } from '../cpu/cpu-pool.js';
import { AbortCause, AttemptAbortedError, LostJobError, StageOutputInvalidError } from '../errors.js';
import type { StageContext } from '../stage-context.js';
import { stageOutputsOf, type StageDefinition, type StagedJobDefinition } from '../staged-job.js';
import { CRASH_SUSPECT_MIN_RESTARTS } from './crash-suspects.js';
import type { HeartbeatBatcher } from './heartbeat-batcher.js';
import { ProgressReporter } from './progress-reporter.js';
import { handBackForRestart, RestartHandBack, shutdownHandBackDecision } from './restart-hand-back.js';
import type { RuntimeEventBus } from './runtime-events.js';

/** What one attempt needs from the runtime. */
export interface AttemptDeps {
  /** The job store: rows, checkpoints and history in one (possibly outage-tolerant) store. */
  store: JobStore;
  artifactStore: ArtifactStore;
  cpuPool: CpuPool;
  heartbeats: HeartbeatBatcher;
  workerId: string;
  logger: Logger;
  clock: Clock;
  progressThrottleMs: number;
  events: RuntimeEventBus;
  metrics: MetricsRecorder;
  /** True once the worker is shutting down: hand the job back after the current stage. */
  isShuttingDown(): boolean;
  /** Called once the attempt has claimed the status row (from then on the row holds its fence). */
  onClaimed?(): void;
  /**
   * The process's one slot for a crash suspect (see `CrashSuspectSlot`), and how long a
   * suspect waits when the slot is taken (ms). Without it, restarted jobs run anywhere.
   */
  crashSuspects?: { enter(jobId: string): boolean; deferDelayMs(): number };
  /** The queue's clock (Redis `TIME`, ms): a monitor restart's backoff is counted on it. */
  queueNowMs(): Promise<number>;
  /**
   * The backoff (ms) BullMQ waits before retrying `job` after `attemptsMade` attempts, by the
   * job's backoff option and the worker's strategy; undefined when none applies. For the story line.
   */
  retryDelayMs?(job: Job, attemptsMade: number, error: Error): Promise<number | undefined>;
  /** Board (issue 17): sees every progress update, for the job's BullMQ progress snapshot. */
  onProgress?(update: ProgressUpdate): void;
}

/** Resolves with `promise`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  // A stage that ignores its signal may settle later: never let that become unhandled.
  promise.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(toError(error));
      },
    );
  });
}

/** The stage a recovery-drill payload asks the first run to hang in (`options.drill.hangOnceInStage`). */
function drillHangStage(payload: unknown): string | undefined {
  const options = (payload as { options?: { drill?: { hangOnceInStage?: unknown } } }).options;
  const stage = options?.drill?.hangOnceInStage;
  return typeof stage === 'string' ? stage : undefined;
}

/** Errors retrying cannot fix: the job fails at once through BullMQ's UnrecoverableError. */
function isPermanent(error: Error): boolean {
  return isKaiJobsError(error) && !error.retryable && !(error instanceof AttemptAbortedError);
}

function stageSpecs(definition: StagedJobDefinition): StageSpec[] {
  return definition.stages.map((stage) => ({
    name: stage.name,
    schema: stage.output,
    schemaVersion: stage.schemaVersion ?? 1,
  }));
}

/** Overall 0–100 at the start of each stage, by stage weight; the last entry is 100. */
function stageStartPercents(definition: StagedJobDefinition): number[] {
  const weights = definition.stages.map((stage) => stage.weight ?? 1);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const starts = [0];
  for (const weight of weights) starts.push((starts[starts.length - 1] as number) + (weight / total) * 100);
  return starts.map((value) => Math.min(100, Math.round(value * 100) / 100));
}

/**
 * Runs one attempt of a staged job: claims the status row with the attempt's fence
 * (BullMQ's lock token), resumes after the last valid checkpoint, runs the remaining stages
 * saving a checkpoint after each, then completes or fails the row. How it ends tells
 * BullMQ what to do: a result (completed), `UnrecoverableError` (failed, no retry),
 * `DelayedError` (a monitor restart after a backoff), `WaitingError` (handed back on
 * shutdown), any other error (BullMQ retries with the backoff policy).
 */
export async function runAttempt(
  definition: StagedJobDefinition,
  job: Job,
  token: string,
  controller: AbortController,
  deps: AttemptDeps,
): Promise<unknown> {
  const type = definition.type;
  const jobId = job.id as string;
  const ref: JobRef = { id: jobId, type };
  const catalogEntry = jobCatalog[type];
  const logger = deps.logger.child({ queue: catalogEntry.queueName, jobId, workerId: deps.workerId });
  // Process-local and monotonic: the attempt's processing time, never compared across hosts.
  const attemptStartedAt = performance.now();
  const attemptStartedClock = deps.clock.now();

  const payloadResult = catalogEntry.payloadSchema.safeParse(job.data);
  if (!payloadResult.success) {
    // Issues may quote the payload (a signed URL): scrubbed before the row, the log and failedReason see them.
    const error = scrubErrorInPlace(
      new ValidationError(`${type} payload of job ${jobId}`, zodIssuesToFieldIssues(payloadResult.error, job.data)),
    );
    await failBadPayload(jobId, type, job.data, token, error, deps, logger);
    throw new UnrecoverableError(error.message);
  }
  const payload = payloadResult.data as Payload<JobType>;

  const row = await claimRow(jobId, type, payload, token, definition, deps);
  deps.onClaimed?.();
  if (row.status === 'completed') {
    logger.warn('the job is already completed; not running it again', {});
    return row.result;
  }
  if (row.status === 'failed') throw new UnrecoverableError(`job ${jobId} is already failed: ${row.error ?? 'unknown'}`);
  if (row.restartCount >= CRASH_SUSPECT_MIN_RESTARTS && deps.crashSuspects !== undefined && !deps.crashSuspects.enter(jobId)) {
    await deferCrashSuspect(job, token, row, deps.crashSuspects.deferDelayMs(), deps, logger);
  }

  deps.heartbeats.add(jobId, type, token);
  const reporter = new ProgressReporter({
    store: deps.store,
    jobId,
    fence: token,
    throttleMs: deps.progressThrottleMs,
    clock: deps.clock,
    onError: (error) => {
      if (hasErrorCode(error, QueueErrorCode.StaleFence)) {
        controller.abort(new AttemptAbortedError(AbortCause.LostJob, 'a progress write was fenced off'));
      } else {
        logger.warn('progress write failed', { error: toError(error).message });
      }
    },
    ...(deps.onProgress === undefined ? {} : { onReport: deps.onProgress }),
  });
  reporter.noteWrite();
  const stages = definition.stages as readonly StageDefinition[];
  const starts = stageStartPercents(definition);
  let currentStage: string | null = null;
  let lastCheckpoint: Omit<SaveCheckpointInput, 'progress'> | null = null;

  try {
    // A first attempt (never started before, never restarted) has no checkpoints: skip the read.
    const firstAttempt = row.attempt === 1 && row.restartCount === 0;
    const validation = firstAttempt
      ? { valid: [], invalid: [], resumeIndex: 0 }
      : await latestValidCheckpoints(deps.store, ref, stageSpecs(definition));
    for (const invalid of validation.invalid) {
      logger.warn('checkpoint is invalid and will not be used', { ...invalid });
      await deps.store.appendHistory(jobId, { event: 'checkpoint:invalid', ...invalid, attempt: row.attempt });
    }
    const resumeIndex = validation.resumeIndex;
    const outputs = new Map<string, unknown>(validation.valid.map((checkpoint) => [checkpoint.stage, checkpoint.data]));
    const firstStage = stages[resumeIndex];
    if (resumeIndex > 0) {
      await deps.store.appendHistory(jobId, {
        event: 'resumed',
        from: firstStage?.name ?? null,
        restored: validation.valid.map((checkpoint) => checkpoint.stage),
        attempt: row.attempt,
        workerId: deps.workerId,
      });
      await reporter.report({ ...(firstStage ? { stage: firstStage.name } : {}), percent: starts[resumeIndex] as number });
      logger.info('resuming from checkpoint', { from: firstStage?.name ?? 'result', restored: resumeIndex });
    }
    deps.events.emit('job:started', { jobId, type, attempt: row.attempt, restartCount: row.restartCount, resumeIndex, workerId: deps.workerId });

    // Only the first stage to run can have a resume state (later ones never started), and a
    // first attempt has none: skip the read then.
    let resumeState: unknown = null;
    if (firstStage !== undefined && !firstAttempt) {
      resumeState = (await deps.store.loadResumeState(ref, firstStage.name))?.state ?? null;
    }

    for (let index = resumeIndex; index < stages.length; index++) {
      const stage = stages[index] as StageDefinition;
      currentStage = stage.name;
      controller.signal.throwIfAborted();
      deps.events.emit('stage:started', { jobId, type, stage: stage.name, attempt: row.attempt, workerId: deps.workerId, percent: starts[index] as number });
      const ctx = createStageContext({
        stage,
        index,
        starts,
        payload,
        row,
        token,
        ref,
        controller,
        reporter,
        deps,
        logger: logger.child({ stage: stage.name }),
        resumeState: index === resumeIndex ? resumeState : null,
      });
      if (drillHangStage(payload) === stage.name && row.restartCount === 0) {
        // The recovery drill: hang here until the monitor (or anyone) aborts the attempt.
        logger.warn('recovery drill: hanging in this stage until aborted', { stage: stage.name });
        await deps.store.appendHistory(jobId, { event: 'drill:hanging', stage: stage.name });
        await raceAbort(new Promise<never>(() => undefined), controller.signal);
      }
      const raw = await raceAbort(stage.run(ctx as StageContext<JobType>, stageOutputsOf(outputs)), controller.signal);
      const parsed = stage.output.safeParse(raw);
      if (!parsed.success) {
        throw new StageOutputInvalidError(stage.name, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
      }
      // The checkpoint save below moves the row to the next stage but leaves the detail, so
      // "page 17 of 17" of this stage would show under the next one until it reports: clear it
      // (only if the stage reported one: a write per stage otherwise, for nothing).
      await reporter.clearDetail();
      await reporter.flush();
      const nextStage = stages[index + 1]?.name ?? null;
      outputs.set(stage.name, parsed.data);
      if (nextStage === null) {
        // The last stage: its checkpoint and the completion are one atomic step, below.
        lastCheckpoint = {
          stage: stage.name,
          stageIndex: index,
          data: parsed.data,
          fence: token,
          schemaVersion: stage.schemaVersion ?? 1,
          attempt: row.attempt,
        };
        break;
      }
      await deps.store.saveCheckpoint(ref, {
        stage: stage.name,
        stageIndex: index,
        data: parsed.data,
        fence: token,
        schemaVersion: stage.schemaVersion ?? 1,
        attempt: row.attempt,
        progress: { nextStage, percent: starts[index + 1] as number },
      });
      reporter.noteWrite();
      deps.events.emit('stage:completed', { jobId, type, stage: stage.name, attempt: row.attempt, workerId: deps.workerId });
      if (nextStage !== null && deps.isShuttingDown()) {
        throw new AttemptAbortedError(AbortCause.Shutdown, `worker shutting down after stage ${stage.name}`);
      }
    }

    const rawResult = await definition.result(stageOutputsOf(outputs), { jobId, payload });
    const result = catalogEntry.resultSchema.safeParse(rawResult);
    if (!result.success) throw new StageOutputInvalidError('result', result.error.message);
    await reporter.flush();
    if (lastCheckpoint !== null) {
      const checkpoint = lastCheckpoint;
      await completeOnce(() => deps.store.completeWithCheckpoint(ref, checkpoint, result.data), jobId, token, deps, logger);
      deps.events.emit('stage:completed', { jobId, type, stage: lastCheckpoint.stage, attempt: row.attempt, workerId: deps.workerId });
    } else {
      // Every stage was restored from checkpoints (a crash after the last one): only complete.
      await completeOnce(() => deps.store.complete(jobId, token, result.data), jobId, token, deps, logger);
    }
    currentStage = null;
    // Metrics never fail a job: the recorder logs and swallows its own errors.
    // A recovery drill's canary counts apart from production (its own metrics keys).
    const metricsContext = { drill: isDrillPayload(payload) };
    void deps.metrics.jobCompleted(type, performance.now() - attemptStartedAt, metricsContext);
    void deps.metrics.updateGaps(
      type,
      { maxUpdateGapMs: reporter.maxGapMs, maxHeartbeatGapMs: deps.heartbeats.maxGapSince(attemptStartedClock) },
      metricsContext,
    );
    if (row.restartCount > 0) void deps.metrics.recovery(type, 'recovered', metricsContext);
    deps.events.emit('job:completed', {
      jobId,
      type,
      attempt: row.attempt,
      workerId: deps.workerId,
      maxUpdateGapMs: reporter.maxGapMs,
    });
    logger.info('job completed', { attempt: row.attempt });
    return result.data;
  } catch (caught: unknown) {
    reporter.dispose();
    throw await settleFailure(toError(caught), { job, jobId, type, token, controller, deps, logger, currentStage, attempt: row.attempt });
  } finally {
    reporter.dispose();
    deps.heartbeats.remove(jobId);
  }
}

/**
 * Hands a crash suspect back for a moment because this process already runs another one:
 * nothing has run yet, no restart is counted (BullMQ's `moveToDelayed` skips the attempt).
 * Always throws `DelayedError`.
 */
async function deferCrashSuspect(job: Job, token: string, row: StatusRow, delayMs: number, deps: AttemptDeps, logger: Logger): Promise<never> {
  logger.info('another crash suspect runs in this process: deferring this one, so one job that crashes its worker cannot take it down again', {
    restartCount: row.restartCount,
    delayMs,
  });
  await deps.store
    .appendHistory(job.id as string, { event: 'deferred', reason: 'crash-suspect', attempt: row.attempt, workerId: deps.workerId, delayMs })
    .catch(() => undefined);
  await job.moveToDelayed(deps.clock.now() + delayMs, token);
  throw new DelayedError();
}

/**
 * Writes the completion. Refused because the job is already completed — by this very attempt
 * (the row holds its fence) — means an earlier send of the same write landed and only its reply
 * was lost: ioredis sends a command again after a reconnect, and a Redis restart between the
 * write and its reply makes the second send find the job completed. That is success; anything
 * else is rethrown.
 */
async function completeOnce(write: () => Promise<unknown>, jobId: string, token: string, deps: AttemptDeps, logger: Logger): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!hasErrorCode(error, QueueErrorCode.InvalidTransition)) throw error;
    const row = await deps.store.get(jobId).catch(() => null);
    if (row?.status !== 'completed' || row.fence !== token) throw error;
    logger.warn('the completion had landed already (its reply was lost, the write was sent again): the job is completed', {
      error: toError(error).message,
    });
  }
}

type ClaimDeps = Pick<AttemptDeps, 'store' | 'workerId'>;

/** Marks the row processing with the fence; creates it first for a job added without the client. */
async function claimRow(
  jobId: string,
  type: JobType,
  payload: Payload<JobType>,
  token: string,
  definition: StagedJobDefinition,
  deps: ClaimDeps,
): Promise<StatusRow> {
  const claim = { type, fence: token, workerId: deps.workerId, stage: definition.stages[0]?.name ?? null };
  try {
    return await deps.store.markProcessing(jobId, claim);
  } catch (error) {
    if (hasErrorCode(error, QueueErrorCode.NotFound)) {
      await deps.store.create({ id: jobId, type, payload, refs: refsOfPayload(type, payload) });
      return deps.store.markProcessing(jobId, claim);
    }
    if (hasErrorCode(error, QueueErrorCode.InvalidTransition)) {
      const row = await deps.store.get(jobId);
      if (row !== null) return row;
    }
    throw error;
  }
}

async function failBadPayload(
  jobId: string,
  type: JobType,
  data: unknown,
  token: string,
  error: ValidationError,
  deps: AttemptDeps,
  logger: Logger,
): Promise<void> {
  logger.error('payload fails the catalog schema; failing without retries', { issues: error.issues });
  try {
    await deps.store.create({ id: jobId, type, payload: data });
    const claimed = await deps.store.markProcessing(jobId, { fence: token, workerId: deps.workerId });
    // A job failing for good raises its "processing failed" alert in the same step (the outbox).
    await deps.store.fail(jobId, token, error.message, null, { alert: processingFailureAlert({ error: error.message, stage: null, attempt: claimed.attempt }) });
  } catch (storeError) {
    logger.warn('could not record the bad payload on the status row', { error: toError(storeError).message });
  }
}

interface FailureContext {
  job: Job;
  jobId: string;
  type: JobType;
  token: string;
  controller: AbortController;
  deps: AttemptDeps;
  logger: Logger;
  currentStage: string | null;
  attempt: number;
}

/** Decides, in one exhaustive switch, what an attempt's error means for BullMQ and the row. */
async function settleFailure(error: Error, context: FailureContext): Promise<Error> {
  // The error's text is written to the row and history, emitted, logged and — returned to
  // BullMQ — kept as failedReason and stack trace, all of which the board shows. A stage that
  // failed on a signed URL quotes it: scrub once, here, before any of them sees it.
  scrubErrorInPlace(error);
  const { job, jobId, type, token, controller, deps, logger, currentStage } = context;
  const reason = controller.signal.aborted ? toError(controller.signal.reason) : error;
  const aborted = reason instanceof AttemptAbortedError ? reason : undefined;
  const cause = aborted?.abortCause ?? (hasErrorCode(error, QueueErrorCode.StaleFence) ? AbortCause.LostJob : undefined);

  switch (cause) {
    case AbortCause.Cancel:
      logger.info('job cancelled while running', { reason: aborted?.reason });
      return new UnrecoverableError(`cancelled: ${aborted?.reason ?? 'cancelled'}`);
    case AbortCause.Restart: {
      const delayMs = aborted?.delayMs ?? 0;
      const handedBack = await handBackForRestart(job, token, delayMs, { queueNowMs: deps.queueNowMs });
      logger.warn('attempt stopped by the monitor; the job restarts from its checkpoint', { delayMs, stage: currentStage, handedBack });
      deps.events.emit('job:handed-back', { jobId, type, reason: 'restart', stage: currentStage, workerId: deps.workerId });
      return handedBack === RestartHandBack.Delayed ? new DelayedError() : new WaitingError();
    }
    case AbortCause.Shutdown: {
      // The shared rule on the row as read now: a job cancelled or failed meanwhile, or taken
      // by another attempt, is not handed back (moving it would undo that transition).
      const current = await deps.store.get(jobId).then(
        (row) => row,
        () => undefined,
      );
      const decision = shutdownHandBackDecision(type, current, token);
      if (decision.action !== RecoveryAction.Requeue) {
        logger.info('shutdown: the job is not handed back', { why: decision.why, status: current?.status });
        if (current?.status === 'failed') return new UnrecoverableError(`job ${jobId} was failed elsewhere: ${current.error ?? ''}`);
        return new LostJobError(jobId, decision.why);
      }
      await job.moveToWait(token);
      await deps.store
        .appendHistory(jobId, { event: 'shutdown:handed-back', stage: currentStage, workerId: deps.workerId })
        .catch(() => undefined);
      // Listed on the monitoring page's "Latest recoveries"; the recorder swallows its own errors.
      void deps.metrics.handedBack({
        kind: HandBackKind.Shutdown,
        type,
        jobId,
        stage: currentStage,
        workerId: deps.workerId,
        drill: isDrillPayload(job.data),
      });
      logger.info('handed the job back to the queue on shutdown', { stage: currentStage });
      deps.events.emit('job:handed-back', { jobId, type, reason: 'shutdown', stage: currentStage, workerId: deps.workerId });
      return new WaitingError();
    }
    case AbortCause.LostJob: {
      const row = await deps.store.get(jobId).catch(() => null);
      logger.warn('lost the job: another attempt took it over; nothing more is written by this one', {
        stage: currentStage,
        status: row?.status,
        // What told it: a refused write (its operation), a rejected heartbeat, BullMQ's lock, a reconnect check.
        reason: aborted?.reason ?? error.message,
      });
      deps.events.emit('job:lost', { jobId, type, stage: currentStage, workerId: deps.workerId });
      if (row?.status === 'failed') return new UnrecoverableError(`job ${jobId} was failed elsewhere: ${row.error ?? ''}`);
      return new LostJobError(jobId, aborted?.reason ?? error.message);
    }
    case undefined:
      break;
    default: {
      const exhaustive: never = cause;
      return new Error(`unhandled abort cause ${String(exhaustive)}`);
    }
  }

  const permanent = isPermanent(error) || error.name === 'UnrecoverableError';
  const attemptsAllowed = job.opts.attempts ?? 1;
  // The retry rule is the shared pure decision (@kai-jobs/queue): this function only does the I/O.
  // The row is this attempt's (`processing`): a superseded attempt's writes are refused by the fence.
  const decision = decideAttemptFailure(
    {
      type,
      status: 'processing',
      restartCount: 0,
      maxRestarts: jobCatalog[type].defaults.maxRestarts,
      recovery: jobCatalog[type].defaults.recovery,
      hasValidCheckpoint: false,
    },
    { permanent, attemptsMade: job.attemptsMade + 1, attempts: attemptsAllowed },
  );
  const willRetry = decision.action === RecoveryAction.Requeue;
  try {
    if (willRetry) {
      await deps.store.appendHistory(jobId, {
        event: 'attempt:failed',
        error: error.message,
        stage: currentStage,
        willRetry: true,
        attempt: context.attempt,
      });
      const delayMs = await deps.retryDelayMs?.(job, job.attemptsMade + 1, error).then(
        (value) => value ?? null,
        () => null,
      );
      deps.events.emit('job:retrying', {
        jobId,
        type,
        stage: currentStage,
        error: error.message,
        attempt: job.attemptsMade + 1,
        attempts: attemptsAllowed,
        delayMs: delayMs ?? null,
        workerId: deps.workerId,
      });
    } else {
      // The "processing failed" alert goes to the outbox with the failure, in one atomic step:
      // the monitors deliver it exactly once (event id from the incident), whoever dies when.
      await deps.store.fail(jobId, token, error.message, currentStage, {
        alert: processingFailureAlert({ error: error.message, stage: currentStage, attempt: context.attempt }),
      });
      void deps.metrics.jobFailed(type, currentStage, { drill: isDrillPayload(job.data) });
      deps.events.emit('job:failed', { jobId, type, stage: currentStage, error: error.message, workerId: deps.workerId });
    }
  } catch (storeError) {
    if (hasErrorCode(storeError, QueueErrorCode.StaleFence)) {
      logger.warn('lost the job while failing it; leaving the row to the new attempt', {});
      return new LostJobError(jobId, 'fenced off while recording a failure');
    }
    logger.error('could not record the failure on the status row', { error: toError(storeError).message });
  }
  logger[willRetry ? 'warn' : 'error'](willRetry ? 'attempt failed; BullMQ retries it' : 'job failed', {
    error: error.message,
    stage: currentStage,
    permanent,
  });
  return permanent ? new UnrecoverableError(error.message) : error;
}

interface ContextInput {
  stage: StageDefinition;
  index: number;
  starts: number[];
  payload: Payload<JobType>;
  row: StatusRow;
  token: string;
  ref: JobRef;
  controller: AbortController;
  reporter: ProgressReporter;
  deps: AttemptDeps;
  logger: Logger;
  resumeState: unknown;
}

function createStageContext(input: ContextInput): StageContext {
  const { stage, index, starts, reporter, deps, controller, ref, token, row } = input;
  const start = starts[index] as number;
  const span = (starts[index + 1] as number) - start;
  return {
    jobId: ref.id,
    type: ref.type,
    payload: input.payload,
    stage: stage.name as never,
    attempt: row.attempt,
    signal: controller.signal,
    logger: input.logger,
    artifacts: scopeArtifactStore(deps.artifactStore, ref.id, stage.name),
    resumeState: input.resumeState,
    async progress(percent, detail) {
      if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
        throw new RangeError(`progress must be within 0–100, got ${percent}`);
      }
      const overall = Math.round((start + (span * percent) / 100) * 100) / 100;
      await reporter.report({ stage: stage.name, percent: overall, ...(detail === undefined ? {} : { detail }) });
    },
    async setCounters(counters) {
      await reporter.report({ counters });
    },
    async markScraping() {
      await reporter.report({ status: 'scraping' });
      await reporter.flush();
    },
    async saveResumeState(state) {
      await deps.store.saveResumeState(ref, { stage: stage.name, state, fence: token, attempt: row.attempt });
      reporter.noteWrite();
    },
    runInWorkerThread(task, taskInput, transfer) {
      return deps.cpuPool.run(task, taskInput, { signal: controller.signal, ...(transfer ? { transfer } : {}) });
    },
    throwIfAborted() {
      controller.signal.throwIfAborted();
    },
  };
}
