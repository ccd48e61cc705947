import { KaiJobsError } from '@kai-jobs/queue';

/** A checkpoint's data is over the size limit: large outputs belong in the artifact store. */
export class CheckpointTooLargeError extends KaiJobsError {
  override name = 'CheckpointTooLargeError' as const;
  constructor(
    readonly jobId: string,
    readonly stage: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(
      'CHECKPOINT_TOO_LARGE',
      `checkpoint of stage ${stage} (job ${jobId}) is ${bytes} bytes, over the ${limitBytes}-byte limit: ` +
        'store large outputs (text, tiles, vectors) with ctx.artifacts.put() and keep only their keys and hashes in the output',
      { retryable: false },
    );
  }
}
