import { describe, expect, it } from 'vitest';
import { ALERT_KINDS, AlertKind, buildAlert } from '../src/index.js';
import { importRow, scrapeRow, statusRow } from './fixtures/rows.js';

describe('buildAlert', () => {
  it('gives every kind its fingerprint prefix and level', () => {
    const built = [
      buildAlert({ kind: 'pdf-processing-failed', row: statusRow(), error: new Error('x') }),
      buildAlert({ kind: 'stuck-job', row: statusRow(), reason: 'update_timeout', stuckForMs: 1 }),
      buildAlert({ kind: 'stuck-scraping-session', row: scrapeRow(), reason: 'update_timeout', stuckForMs: 1 }),
      buildAlert({ kind: 'scraping-session-failed', row: scrapeRow(), error: 'x' }),
      buildAlert({ kind: 'stuck-import-job', row: importRow(), reason: 'update_timeout', stuckForMs: 1 }),
      buildAlert({ kind: 'xml-import-job-failed', row: importRow(), error: 'x' }),
    ];
    expect(built.map((alert) => alert.fingerprint[0])).toEqual(ALERT_KINDS);
    expect(built.map((alert) => alert.level)).toEqual(['error', 'warning', 'warning', 'error', 'warning', 'error']);
    expect(built.map((alert) => alert.error === null)).toEqual([false, true, true, false, true, false]);
  });

  it('derives error_type and stage from the error and the row when not given', () => {
    class PermanentJobError extends Error {
      override name = 'PermanentJobError';
    }
    const typed = buildAlert({
      kind: AlertKind.PdfProcessingFailed,
      row: statusRow({ errorStage: 'pdf_loaded' }),
      error: new PermanentJobError('not a PDF'),
    });
    expect(typed.tags).toMatchObject({ error_type: 'permanent_job_error', stage: 'pdf_loaded' });
    expect(typed.fingerprint).toEqual(['pdf-processing-failed', 'pdf_loaded']);

    // A string error (BullMQ's failedReason) and no error stage: the current stage, a generic type.
    const plain = buildAlert({ kind: AlertKind.PdfProcessingFailed, row: statusRow({ error: 'timed out' }) });
    expect(plain.error?.message).toBe('timed out');
    expect(plain.error?.name).toBe('PdfProcessingError');
    expect(plain.tags).toMatchObject({ error_type: 'pdf_processing_error', stage: 'tiles_generated' });
    const generic = buildAlert({ kind: AlertKind.PdfProcessingFailed, row: statusRow(), error: Object.assign(new Error('e'), { name: 'Error' }) });
    expect(generic.tags['error_type']).toBe('pdf_processing_failed');
  });

  it('fills unknown values, cuts long tag values and keeps them whole in the context', () => {
    const longUrl = `https://example.com/${'a'.repeat(300)}`;
    const alert = buildAlert({
      kind: AlertKind.StuckScrapingSession,
      row: scrapeRow({ refs: { sourceUrl: longUrl } }),
      reason: 'update_timeout',
      stuckForMs: 31 * 60_000,
    });
    expect(alert.tags['source_url']).toHaveLength(200);
    expect(alert.tags['session_id']).toBe('job-s');
    expect(alert.contexts['stuck_scraping_session']?.['source_url']).toBe(longUrl);
    expect(alert.fingerprint).toEqual(['stuck-scraping-session', longUrl]);
    const noDoc = buildAlert({ kind: AlertKind.StuckPdfJob, row: statusRow({ refs: {} }), reason: '', stuckForMs: 0 });
    expect(noDoc.tags).toMatchObject({ document_id: 'unknown', failure_reason: 'unknown' });
  });

  it('identifies an alert by job, attempt and reason for dedupe', () => {
    const stuck = buildAlert({ kind: AlertKind.StuckPdfJob, row: statusRow(), reason: 'heartbeat_timeout', stuckForMs: 1 });
    expect(stuck.dedupe).toEqual({ jobId: 'job-1', attempt: 2, reason: 'heartbeat_timeout' });
    const explicit = buildAlert({ kind: AlertKind.StuckImportJob, row: importRow(), attempt: 7, reason: 'lost', stuckForMs: 1 });
    expect(explicit.dedupe).toEqual({ jobId: 'job-x', attempt: 7, reason: 'lost' });
    const failed = buildAlert({ kind: AlertKind.XmlImportFailed, row: importRow(), stage: 'feed_fetched' });
    expect(failed.dedupe).toEqual({ jobId: 'job-x', attempt: 3, reason: 'feed_fetched' });
    expect(failed.contexts['xml_import_job_failed']?.['retry_count']).toBe(2);
  });
});
