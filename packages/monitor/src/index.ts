/**
 * `@kai-jobs/monitor` — the monitor of kai-jobs: Sentry alerts and crons. (The detection
 * and recovery loop is built beside these.)
 */
export { ALERT_KINDS, AlertKind, MAX_TAG_VALUE_LENGTH, UNKNOWN } from './alerts/alert-kinds.js';
export type {
  AlertInput,
  AlertInputBase,
  AlertLevel,
  BuiltAlert,
  FailureInput,
  PdfProcessingFailedInput,
  ScrapingSessionFailedInput,
  StuckImportJobInput,
  StuckInput,
  StuckPdfJobInput,
  StuckScrapingSessionInput,
  XmlImportFailedInput,
} from './alerts/alert-kinds.js';
export { buildAlert } from './alerts/build-alert.js';
export { Alerter } from './alerts/alerter.js';
export type { AlertOutcome, CaptureContext, CheckInInput } from './alerts/alerter-types.js';
export { AlerterOptionsSchema, CronScheduleSchema, parseAlerterOptions } from './alerts/alerter-options.js';
export type { AlerterOptions, CronSchedule, CronScheduleInput, ResolvedAlerterOptions } from './alerts/alerter-options.js';
export {
  MemoryAlertDedupeStore,
  RedisAlertDedupeStore,
  RedisAlertDedupeStoreOptionsSchema,
} from './alerts/dedupe-store.js';
export type { AlertDedupeRef, AlertDedupeStore, RedisAlertDedupeStoreOptions } from './alerts/dedupe-store.js';
export { captureException, captureMessage, installAlerter, installedAlerter } from './alerts/default-alerter.js';
export { isSecretKey, SCRUBBED, scrubSecrets, scrubString, SECRET_KEY_SUFFIXES } from './alerts/scrub.js';
export { alertDedupeKey } from './keys.js';
