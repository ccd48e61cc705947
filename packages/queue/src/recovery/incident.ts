import { createHash } from 'node:crypto';

/**
 * The Sentry event id of an incident: 32 hex characters derived from the job id and the
 * incident's number (the row's `incident_count` after the transition that raised it). Every
 * monitor that delivers the incident's alert — again after a crash between the send and the
 * mark — sends the same id, and Sentry keeps one event per id.
 */
export function incidentEventId(jobId: string, incident: number): string {
  return createHash('sha256').update(`kai-jobs:incident:${jobId}:${incident}`).digest('hex').slice(0, 32);
}
