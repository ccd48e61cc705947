import type { RedisClient } from '../connection.js';
import { loadLuaScripts, ScriptSet } from '../lua-scripts.js';

/** The board script alone (`board-write-4.lua`), registered under its own namespace. */
const boardScripts = new ScriptSet(
  'kaiBoard',
  loadLuaScripts(new URL('../lua/', import.meta.url)).filter((script) => script.name === 'board-write'),
);

/** One flush of what Bull Board shows of an attempt: see {@link writeJobBoard}. */
export interface JobBoardWrite {
  /** BullMQ's qualified queue name (`job.queueQualifiedName`: `<bull prefix>:<queue>`). */
  queueQualifiedName: string;
  jobId: string;
  /** The new BullMQ progress, already JSON-encoded; undefined leaves it as it is. */
  progressJson?: string;
  /** Log lines to append, in order (already stamped). */
  lines: readonly string[];
  /** Lines the job's log keeps (BullMQ's `keepLogs`). */
  keepLines: number;
}

/**
 * Writes a job's BullMQ progress (with BullMQ's `progress` event) and appends its log lines in
 * one Lua script and one round trip — what `job.updateProgress` and one `Job.addJobLog` per line
 * did in 1 + N scripts. Uses BullMQ's own keys, so Bull Board, `Job.getJobLogs` and QueueEvents
 * read it as theirs. Resolves with the log's length, or -1 when the job no longer exists
 * (nothing is written then).
 */
export async function writeJobBoard(connection: RedisClient, write: JobBoardWrite): Promise<number> {
  const jobKey = `${write.queueQualifiedName}:${write.jobId}`;
  const keys = [jobKey, `${jobKey}:logs`, `${write.queueQualifiedName}:events`, `${write.queueQualifiedName}:meta`];
  const reply = await boardScripts.run(connection, 'board-write', keys, [write.jobId, write.progressJson ?? '', write.keepLines, ...write.lines]);
  return Number(reply);
}
