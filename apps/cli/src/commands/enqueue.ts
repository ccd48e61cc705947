import { isJobType, JOB_TYPES, ValidationError, type JobType } from '@kai-jobs/queue';
import type { CommandSpec } from '../cli/command.js';
import { UsageError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { closestMatch } from '../cli/suggest.js';
import { parseCliEnv } from '../config/cli-env.js';
import { withSystem } from '../config/system.js';
import { formatDuration, formatLabelledValue, writeJson, writeLines } from '../output/format.js';
import { buildPayload, FLAG_OF_FIELD, PAYLOAD_OPTIONS } from './enqueue-payload.js';
import { waitForJob } from './wait-for-job.js';

function withFlagHints(error: ValidationError): ValidationError {
  const issues = error.issues.map((issue) => {
    const field = issue.path.replace(/^payload\./, '');
    const flag = FLAG_OF_FIELD[field] ?? FLAG_OF_FIELD[field.split('.')[0] ?? ''];
    return flag === undefined ? issue : { ...issue, message: `${issue.message} (set it with ${flag})` };
  });
  return new ValidationError('the job payload', issues);
}

/** `kai-jobs enqueue <type>` — validates and enqueues one job, optionally waiting for it. */
export const enqueueCommand: CommandSpec = {
  name: 'enqueue',
  summary: 'enqueue a pdf, scrape or xml-import job (flags or --file payload.json); --wait to follow it',
  usage: 'enqueue pdf|scrape|xml-import [payload flags | --file payload.json] [--idempotency-key k] [--priority n] [--delay-ms ms] [--wait]',
  description:
    'Validates a payload against the job catalog and enqueues it with its pending status row. The payload comes from ' +
    'flags, from --file (a JSON object), or both (flags win). A missing platform id (documentId, sessionId, importJobId) ' +
    'gets a new one. With --wait the command follows the job — its stage and a live progress bar on a terminal, a line ' +
    'per stage and per 10 % otherwise — and exits 0 when it completes, 1 when it fails. A payload error lists every bad ' +
    'field and exits 2; nothing is enqueued then. For xml-import, each --map adds one field to the default mapping ' +
    '(sku=sku, name=name) or to the --preset\'s (google-merchant: RSS 2.0 and Atom feeds with the g: namespace), or ' +
    'overrides that one field.',
  handlesSignals: true,
  positionals: [{ name: 'type', required: true, description: `the job type: ${JOB_TYPES.join(', ')}` }],
  options: {
    file: { type: 'string', valueName: 'payload.json', description: 'read the payload (a JSON object) from this file; flags override its fields' },
    ...Object.fromEntries(Object.entries(PAYLOAD_OPTIONS).map(([name, option]) => [name, { type: option.type, description: option.description, ...(option.valueName ? { valueName: option.valueName } : {}), ...(option.multiple ? { multiple: true } : {}), ...(option.value ? { value: option.value } : {}) }])),
    'idempotency-key': { type: 'string', valueName: 'key', description: 'the same key twice (per type) gives the same job' },
    priority: { type: 'string', valueName: 'n', value: { kind: 'int', min: 1, max: 2_097_152 }, description: 'BullMQ priority, 1 (highest) to 2097152' },
    'delay-ms': { type: 'string', valueName: 'ms', value: { kind: 'int', min: 0 }, description: 'run no earlier than this many ms from now' },
    'job-id': { type: 'string', valueName: 'id', description: 'use this job id instead of a new uuid' },
    wait: { type: 'boolean', description: 'follow the job until it finishes (exit 0 completed, 1 failed)' },
    'timeout-ms': { type: 'string', valueName: 'ms', value: { kind: 'int', min: 1 }, description: 'with --wait: stop waiting after this long (exit 1; the job goes on)' },
  },
  examples: [
    'kai-jobs enqueue pdf --path ./catalogue.pdf --wait',
    'kai-jobs enqueue pdf --document-id doc-42 --url https://cdn.example.com/cat.pdf --skip-tiles --idempotency-key upload-42',
    'kai-jobs enqueue scrape --url https://shop.example.com/ --max-pages 50 --include "/products/"',
    'kai-jobs enqueue xml-import --source-name acme --url https://acme.example/feed.xml --map price=price --map currency=price/@currency',
    'kai-jobs enqueue xml-import --source-name shop --url https://shop.example/merchant.xml --preset google-merchant --map colour=g:color',
    'kai-jobs enqueue pdf --file payload.json --priority 1 --json',
  ],
  async run({ io, json }, args) {
    const typeName = args.positional(0) as string;
    if (!isJobType(typeName)) {
      const meant = closestMatch(typeName, JOB_TYPES);
      throw new UsageError(`unknown job type "${typeName}"; expected ${JOB_TYPES.join(', ')}${meant === undefined ? '' : ` (did you mean ${meant}?)`}`, 'enqueue');
    }
    const type: JobType = typeName;
    const payload = buildPayload(type, args, io.cwd);
    const options = {
      ...(args.string('idempotency-key') === undefined ? {} : { idempotencyKey: args.string('idempotency-key') }),
      ...(args.string('priority') === undefined ? {} : { priority: args.int('priority', { min: 1, max: 2_097_152 }) }),
      ...(args.string('delay-ms') === undefined ? {} : { delayMs: args.int('delay-ms', { min: 0 }) }),
      ...(args.string('job-id') === undefined ? {} : { jobId: args.string('job-id') }),
    };
    const timeoutMs = args.int('timeout-ms', { min: 1 });
    if (timeoutMs !== undefined && !args.flag('wait')) throw new UsageError('--timeout-ms only applies with --wait', 'enqueue');
    const config = parseCliEnv(io.env);
    return withSystem(config, async (system) => {
      let enqueued;
      try {
        enqueued = await system.client.enqueue(type, payload as never, options);
      } catch (error) {
        if (error instanceof ValidationError) throw withFlagHints(error);
        throw error;
      }
      const base = { id: enqueued.id, type, created: enqueued.created };
      if (!args.flag('wait')) {
        if (json) writeJson(io.stdout, base);
        else writeLines(io.stdout, [`${enqueued.created ? 'enqueued' : 'already enqueued (same id or idempotency key)'}: ${type} job ${enqueued.id}`, `follow it: kai-jobs status ${enqueued.id}`]);
        return ExitCode.Ok;
      }
      if (!json) io.stdout.write(`${enqueued.created ? 'enqueued' : 'already enqueued'}: ${type} job ${enqueued.id} — waiting (Ctrl-C stops waiting, not the job)\n`);
      const outcome = await waitForJob({
        statusStore: system.store,
        jobId: enqueued.id,
        display: json ? null : io.stdout,
        signal: io.stopSignal,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      if (outcome.kind === 'finished') {
        const { row } = outcome;
        const completed = row.status === 'completed';
        if (json) {
          writeJson(io.stdout, { ...base, status: row.status, durationMs: row.durationMs, result: row.result, error: row.error, errorStage: row.errorStage, restartCount: row.restartCount });
        } else if (completed) {
          writeLines(io.stdout, [`completed in ${formatDuration(row.durationMs)}`, ...formatLabelledValue(io.stdout, 'result', row.result)]);
        } else {
          writeLines(io.stdout, [`failed${row.errorStage ? ` in stage ${row.errorStage}` : ''}: ${row.error ?? 'unknown error'}`, `history: kai-jobs status ${row.id}`]);
        }
        return completed ? ExitCode.Ok : ExitCode.Failed;
      }
      const status = outcome.kind === 'missing' ? 'missing' : (outcome.row?.status ?? 'missing');
      if (json) writeJson(io.stdout, { ...base, status, waited: outcome.kind });
      else writeLines(io.stdout, [outcome.kind === 'missing' ? `job ${enqueued.id} vanished (its row is gone)` : `stopped waiting (${outcome.kind}); job ${enqueued.id} is ${status} and goes on: kai-jobs status ${enqueued.id}`]);
      return ExitCode.Failed;
    });
  },
};
