/**
 * The chaos suite's invariants, checked from the stores after every scenario:
 * - every job reached the outcome the scenario demands (completed, or failed with a reason);
 * - none completed twice (one terminal history entry; BullMQ agrees);
 * - every stage of every job committed exactly once: no stage ran again after its commit,
 *   no stage was committed twice, and each completed job has every stage's checkpoint, written
 *   by the last attempt that ran the stage;
 * - no row left `processing` (or `scraping`);
 * - restart counts within the limit;
 * - alerts exactly as expected, per job.
 * `collectSnapshot` reads the stores; `findViolations` is pure, so its rules are unit-tested
 * on hand-made snapshots (invariants.test.ts): each rule is shown to fire.
 */
import { Queue } from 'bullmq';
import type { Checkpoint } from '@kai-jobs/checkpoint';
import { bullPrefix, jobCatalog, JOB_TYPES, RedisJobStore, type HistoryEntry, type JobStore, type JobType, type RedisClient, type StatusRow } from '@kai-jobs/queue';
import type { ReceivedEvent } from '@kai-jobs/monitor/testing';
import { readCommits, readRuns, type StageCommit } from '../../packages/workers/test/fixtures/synthetic-hooks.js';
import type { StageRun } from '../../packages/workers/test/fixtures/synthetic-job.js';

/** Everything the invariants need about one job. */
export interface JobSnapshot {
  id: string;
  type: JobType;
  row: StatusRow | null;
  history: HistoryEntry[];
  checkpoints: Checkpoint[];
  runs: StageRun[];
  commits: StageCommit[];
  /** BullMQ's state of the job, or `missing`. */
  bullState: string;
}

/** Everything the invariants need about a scenario. */
export interface ChaosSnapshot {
  jobs: JobSnapshot[];
  /** Rows of any job under the prefix still `processing` or `scraping`. */
  rowsInFlight: StatusRow[];
  /** Sentry events received (each carries its job id in the `job_id` tag). */
  alerts: ReceivedEvent[];
}

/** What a job must end as. */
export type ExpectedOutcome = { status: 'completed' } | { status: 'failed'; error: RegExp };

/** What a scenario demands. */
export interface Expectations {
  /** Outcome per job; default: completed. */
  outcome?: (job: JobSnapshot) => ExpectedOutcome;
  /** Alerts per job; default: 0 for a completed job, 1 for a failed one. */
  alerts?: (job: JobSnapshot) => number;
  /** Most restarts allowed. Default: the catalog's limit of the job's type. */
  maxRestarts?: number;
}

const COMPLETED: ExpectedOutcome = { status: 'completed' };

/**
 * Reads the snapshot of `jobs` (ids with their types) from the stores under `prefix`: the
 * Redis job store, or the one given (the Supabase stores of a scenario
 * that runs with `STATUS_STORE=supabase`; BullMQ and the stage records stay in Redis).
 */
export async function collectSnapshot(options: {
  redis: RedisClient;
  prefix: string;
  jobs: readonly { id: string; type: JobType }[];
  alerts?: readonly ReceivedEvent[];
  store?: JobStore;
}): Promise<ChaosSnapshot> {
  const { redis, prefix } = options;
  const status = options.store ?? new RedisJobStore({ connection: redis, prefix });
  const queues = new Map(JOB_TYPES.map((type) => [type, new Queue(jobCatalog[type].queueName, { connection: redis, prefix: bullPrefix(prefix, jobCatalog[type].queueName) })]));
  try {
    const runs = await readRuns(redis, prefix);
    const commits = await readCommits(redis, prefix);
    const jobs: JobSnapshot[] = [];
    for (const { id, type } of options.jobs) {
      const queue = queues.get(type) as Queue;
      jobs.push({
        id,
        type,
        row: await status.get(id),
        history: await status.history(id, 10_000),
        checkpoints: await status.listCheckpoints({ id, type }),
        runs: runs.filter((run) => run.jobId === id),
        commits: commits.filter((commit) => commit.jobId === id),
        bullState: String(await queue.getJobState(id)).replace('unknown', 'missing'),
      });
    }
    const rowsInFlight: StatusRow[] = [];
    for (const type of JOB_TYPES) {
      for (const inFlight of ['processing', 'scraping'] as const) {
        if (inFlight === 'scraping' && type !== 'scrape') continue;
        rowsInFlight.push(...(await status.list({ type, status: inFlight, limit: 10_000 })));
      }
    }
    return { jobs, rowsInFlight, alerts: [...(options.alerts ?? [])] };
  } finally {
    await Promise.all([...queues.values()].map((queue) => queue.close()));
  }
}

/** The stage names of a job type, in order. */
function stagesOf(type: JobType): readonly string[] {
  return jobCatalog[type].stages;
}

/**
 * The queue job an alert is about: its context's `queue_job_id` (every alert kind has one;
 * scraping and import alerts tag the platform's session or import id, not the queue's), else
 * its `job_id` tag.
 */
export function alertedJobId(event: ReceivedEvent): string {
  for (const context of Object.values(event.contexts ?? {})) {
    const id = context['queue_job_id'];
    if (typeof id === 'string' && id !== '') return id;
  }
  return event.tags?.['job_id'] ?? '(no job_id tag)';
}

/** Every broken invariant, as one readable line each (empty when all hold). */
export function findViolations(snapshot: ChaosSnapshot, expectations: Expectations = {}): string[] {
  const violations: string[] = [];
  // Counted as Sentry counts them: one per event id. An outbox alert sent again after a monitor
  // died between the send and the mark carries its incident's id, and Sentry keeps one event.
  const alertsByJob = new Map<string, number>();
  const seen = new Set<string>();
  for (const event of snapshot.alerts) {
    if (event.event_id !== undefined) {
      if (seen.has(event.event_id)) continue;
      seen.add(event.event_id);
    }
    const jobId = alertedJobId(event);
    alertsByJob.set(jobId, (alertsByJob.get(jobId) ?? 0) + 1);
  }
  const known = new Set(snapshot.jobs.map((job) => job.id));
  for (const [jobId, count] of alertsByJob) {
    if (!known.has(jobId)) violations.push(`${jobId}: ${count} alert(s) for a job the scenario did not enqueue`);
  }

  for (const job of snapshot.jobs) {
    const say = (what: string) => violations.push(`${job.id}: ${what}`);
    const expected = expectations.outcome?.(job) ?? COMPLETED;
    const row = job.row;
    if (row === null) {
      say('lost: no status row');
      continue;
    }

    // Outcome, and BullMQ's agreement with it.
    if (row.status !== expected.status) say(`status ${row.status}, expected ${expected.status}${row.error ? ` (error: ${row.error})` : ''}`);
    if (expected.status === 'failed' && row.status === 'failed' && !expected.error.test(row.error ?? '')) {
      say(`failed with "${row.error ?? ''}", expected an error matching ${expected.error}`);
    }
    const bullExpected = expected.status === 'completed' ? ['completed'] : ['failed', 'missing'];
    if (!bullExpected.includes(job.bullState)) say(`BullMQ state ${job.bullState}, expected ${bullExpected.join(' or ')}`);

    // Exactly one terminal transition.
    const completions = job.history.filter((entry) => entry.event === 'completed').length;
    const failures = job.history.filter((entry) => entry.event === 'failed').length;
    if (expected.status === 'completed' && (completions !== 1 || failures !== 0)) say(`history has ${completions} completed and ${failures} failed entries, expected 1 and 0`);
    if (expected.status === 'failed' && completions !== 0) say(`history has ${completions} completed entries for a job that must fail`);
    if (failures > 1) say(`history has ${failures} failed entries`);

    // Stages: never run again after their commit, never committed twice.
    const stages = stagesOf(job.type);
    const attemptsOf = (stage: string) => job.runs.filter((run) => run.stage === stage).map((run) => run.attempt);
    for (let index = 0; index < stages.length; index++) {
      const stage = stages[index] as string;
      const ran = attemptsOf(stage);
      const next = stages[index + 1];
      // A later stage starts only after this one's checkpoint: from that attempt on, this stage is done.
      const committedBy = next === undefined ? [] : attemptsOf(next);
      if (committedBy.length > 0) {
        const firstCommitted = Math.min(...committedBy);
        const rerun = ran.filter((attempt) => attempt > firstCommitted);
        if (rerun.length > 0) say(`stage ${stage} ran again in attempt(s) ${rerun.join(', ')} after attempt ${firstCommitted} had committed it`);
      }
      const commits = job.commits.filter((commit) => commit.stage === stage);
      if (commits.length > 1) say(`stage ${stage} committed ${commits.length} times (attempts ${commits.map((commit) => commit.attempt).join(', ')})`);
      if (expected.status === 'completed') {
        const checkpoint = job.checkpoints.find((saved) => saved.stage === stage);
        if (checkpoint === undefined) {
          say(`completed without a checkpoint of stage ${stage}`);
        } else {
          if (ran.length === 0) say(`stage ${stage} has a checkpoint but never ran`);
          else if (checkpoint.attempt !== Math.max(...ran)) say(`stage ${stage}'s checkpoint was written by attempt ${checkpoint.attempt}, but attempt ${Math.max(...ran)} ran it last`);
          if (commits.length === 1 && commits[0]?.attempt !== checkpoint.attempt) say(`stage ${stage} committed by attempt ${commits[0]?.attempt}, checkpoint says ${checkpoint.attempt}`);
        }
      }
    }

    // Restarts within the limit.
    const limit = expectations.maxRestarts ?? jobCatalog[job.type].defaults.maxRestarts;
    if (row.restartCount > limit) say(`restarted ${row.restartCount} times, limit ${limit}`);

    // Alerts exactly as expected.
    const expectedAlerts = expectations.alerts?.(job) ?? (expected.status === 'failed' ? 1 : 0);
    const gotAlerts = alertsByJob.get(job.id) ?? 0;
    if (gotAlerts !== expectedAlerts) say(`${gotAlerts} alert(s), expected ${expectedAlerts}`);
  }

  for (const row of snapshot.rowsInFlight) violations.push(`${row.id}: row left ${row.status} (attempt ${row.attempt}, worker ${row.workerId ?? 'none'})`);
  return violations;
}
