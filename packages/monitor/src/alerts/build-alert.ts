import { SCRUBBED, scrubString, type StatusRow } from '@kai-jobs/queue';
import {
  AlertKind,
  MAX_TAG_VALUE_LENGTH,
  UNKNOWN,
  type AlertInput,
  type BuiltAlert,
  type FailureInput,
  type StuckInput,
} from './alert-kinds.js';

function text(value: string | null | undefined): string {
  return value === null || value === undefined || value.trim() === '' ? UNKNOWN : value;
}

/**
 * A tag value: scrubbed before it is cut to Sentry's limit, so a signed source URL keeps as
 * much of its host and path as fits (the event is scrubbed again as a whole before it leaves).
 */
function tag(value: string | null | undefined): string {
  const t = scrubString(text(value));
  if (t.length <= MAX_TAG_VALUE_LENGTH) return t;
  const cut = t.slice(0, MAX_TAG_VALUE_LENGTH);
  // Never end on half a placeholder (`…=[scr`): scrubbing it again would make it grow.
  const open = cut.lastIndexOf('[');
  return open !== -1 && SCRUBBED.startsWith(cut.slice(open)) ? cut.slice(0, open) : cut;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .toLowerCase();
}

/** The error of a failure alert as an `Error` (a string becomes one named `fallbackName`). */
function asError(value: unknown, row: StatusRow, fallbackName: string): Error {
  if (value instanceof Error) return value;
  const message = typeof value === 'string' && value !== '' ? value : (row.error ?? 'unknown error');
  const error = new Error(message);
  error.name = fallbackName;
  return error;
}

function failureStage(input: FailureInput): string | null {
  if (input.stage !== undefined) return input.stage;
  return input.row.errorStage ?? input.row.currentStage;
}

/** Timestamps and progress every context carries. */
function rowTimes(row: StatusRow): Record<string, unknown> {
  return {
    created_at: iso(row.createdAt),
    started_at: iso(row.startedAt),
    updated_at: iso(row.updatedAt),
    last_heartbeat: iso(row.lastHeartbeat),
  };
}

function stuckFields(input: StuckInput): Record<string, unknown> {
  return {
    stuck_duration_ms: Math.round(input.stuckForMs),
    stuck_duration_minutes: Math.round((input.stuckForMs / 60_000) * 10) / 10,
    failure_reason: input.reason,
  };
}

function jobDetails(row: StatusRow, attempt: number): Record<string, unknown> {
  return {
    queue_job_id: row.id,
    status: row.status,
    attempt,
    restart_count: row.restartCount,
    worker_id: row.workerId,
    current_stage: row.currentStage,
    progress: row.progress,
    progress_detail: row.progressDetail,
  };
}

function pageCounts(row: StatusRow): Record<string, number> {
  return {
    total_pages: row.counters.total_pages ?? 0,
    completed_pages: row.counters.completed_pages ?? 0,
    failed_pages: row.counters.failed_pages ?? 0,
  };
}

function productCounts(row: StatusRow): Record<string, number> {
  return {
    total_products: row.counters.total_products ?? 0,
    processed_products: row.counters.processed_products ?? 0,
    failed_products: row.counters.failed_products ?? 0,
  };
}

/**
 * Builds the Sentry payload of an alert: tags, one named context, fingerprint, level,
 * message or exception, and the dedupe identity. Pure; see the package README for the
 * table of every kind.
 */
export function buildAlert(input: AlertInput): BuiltAlert {
  const { row } = input;
  const attempt = input.attempt ?? row.attempt;
  switch (input.kind) {
    case AlertKind.PdfProcessingFailed: {
      const stage = failureStage(input);
      const error = asError(input.error ?? row.error, row, 'PdfProcessingError');
      const errorType =
        input.errorType ?? (error.name !== '' && error.name !== 'Error' ? snakeCase(error.name) : 'pdf_processing_failed');
      const documentId = text(row.refs.documentId);
      return {
        kind: input.kind,
        level: 'error',
        error,
        message: error.message,
        tags: {
          job_id: tag(row.id),
          document_id: tag(documentId),
          job_type: tag(input.jobTypeTag ?? 'pdf_processing'),
          error_type: tag(errorType),
          stage: tag(stage),
        },
        contexts: {
          pdf_processing_failed: {
            job_id: row.id,
            document_id: documentId,
            ...jobDetails(row, attempt),
            stage: text(stage),
            error_type: errorType,
            error_message: error.message,
            total_pages: row.counters.total_pages ?? 0,
            completed_pages: row.counters.completed_pages ?? 0,
            ...rowTimes(row),
          },
        },
        fingerprint: [AlertKind.PdfProcessingFailed, text(stage)],
        dedupe: { jobId: row.id, attempt, reason: text(stage) },
      };
    }
    case AlertKind.StuckPdfJob: {
      const documentId = text(row.refs.documentId);
      return {
        kind: input.kind,
        level: 'warning',
        error: null,
        message: `Stuck PDF job detected: ${row.id} (${input.reason})`,
        tags: {
          job_id: tag(row.id),
          document_id: tag(documentId),
          error_type: 'stuck_job',
          failure_reason: tag(input.reason),
        },
        contexts: {
          stuck_job: {
            job_id: row.id,
            document_id: documentId,
            ...jobDetails(row, attempt),
            ...rowTimes(row),
            ...stuckFields(input),
          },
        },
        fingerprint: [AlertKind.StuckPdfJob, text(input.reason)],
        dedupe: { jobId: row.id, attempt, reason: text(input.reason) },
      };
    }
    case AlertKind.StuckScrapingSession: {
      const sessionId = text(row.refs.sessionId ?? row.id);
      const sourceUrl = text(row.refs.sourceUrl);
      return {
        kind: input.kind,
        level: 'warning',
        error: null,
        message: `Stuck scraping session detected: ${sessionId} (${sourceUrl})`,
        tags: {
          session_id: tag(sessionId),
          job_type: 'web_scraping',
          error_type: 'stuck_scraping_session',
          source_url: tag(sourceUrl),
        },
        contexts: {
          stuck_scraping_session: {
            session_id: sessionId,
            source_url: sourceUrl,
            background_job_id: row.refs.backgroundJobId ?? null,
            ...jobDetails(row, attempt),
            ...pageCounts(row),
            ...rowTimes(row),
            ...stuckFields(input),
          },
        },
        fingerprint: [AlertKind.StuckScrapingSession, sourceUrl],
        dedupe: { jobId: row.id, attempt, reason: text(input.reason) },
      };
    }
    case AlertKind.ScrapingSessionFailed: {
      const sessionId = text(row.refs.sessionId ?? row.id);
      const sourceUrl = text(row.refs.sourceUrl);
      const stage = failureStage(input);
      const error = asError(input.error ?? row.error, row, 'ScrapingSessionError');
      return {
        kind: input.kind,
        level: 'error',
        error,
        message: error.message,
        tags: {
          function: 'scrape-session-manager',
          error_type: 'scraping_session_failed',
          session_id: tag(sessionId),
          source_url: tag(sourceUrl),
        },
        contexts: {
          scraping_session_failed: {
            session_id: sessionId,
            source_url: sourceUrl,
            background_job_id: row.refs.backgroundJobId ?? null,
            ...jobDetails(row, attempt),
            ...pageCounts(row),
            stage: text(stage),
            error_message: error.message,
            ...rowTimes(row),
          },
        },
        fingerprint: [AlertKind.ScrapingSessionFailed, sourceUrl],
        dedupe: { jobId: row.id, attempt, reason: text(stage) },
      };
    }
    case AlertKind.StuckImportJob: {
      const importJobId = text(row.refs.importJobId ?? row.id);
      const sourceName = text(row.refs.sourceName);
      return {
        kind: input.kind,
        level: 'warning',
        error: null,
        message: `Stuck XML import job detected: ${importJobId} (${sourceName})`,
        tags: {
          import_job_id: tag(importJobId),
          job_type: 'xml_import',
          error_type: 'stuck_import_job',
          source_name: tag(sourceName),
        },
        contexts: {
          stuck_import_job: {
            import_job_id: importJobId,
            source_name: sourceName,
            background_job_id: row.refs.backgroundJobId ?? null,
            ...jobDetails(row, attempt),
            ...productCounts(row),
            ...rowTimes(row),
            ...stuckFields(input),
          },
        },
        fingerprint: [AlertKind.StuckImportJob, sourceName],
        dedupe: { jobId: row.id, attempt, reason: text(input.reason) },
      };
    }
    case AlertKind.XmlImportFailed: {
      const importJobId = text(row.refs.importJobId ?? row.id);
      const sourceName = text(row.refs.sourceName);
      const stage = failureStage(input);
      const error = asError(input.error ?? row.error, row, 'XmlImportError');
      const retryCount = input.retryCount ?? Math.max(0, attempt - 1);
      return {
        kind: input.kind,
        level: 'error',
        error,
        message: error.message,
        tags: {
          function: 'xml-import-orchestrator',
          error_type: 'xml_import_job_failed',
          job_id: tag(importJobId),
          source_name: tag(sourceName),
        },
        contexts: {
          xml_import_job_failed: {
            job_id: importJobId,
            source_name: sourceName,
            background_job_id: row.refs.backgroundJobId ?? null,
            ...jobDetails(row, attempt),
            ...productCounts(row),
            retry_count: retryCount,
            stage: text(stage),
            error_message: error.message,
            ...rowTimes(row),
          },
        },
        fingerprint: [AlertKind.XmlImportFailed, sourceName],
        dedupe: { jobId: row.id, attempt, reason: text(stage) },
      };
    }
    default: {
      const exhaustive: never = input;
      throw new Error(`unknown alert kind ${String((exhaustive as { kind: unknown }).kind)}`);
    }
  }
}
