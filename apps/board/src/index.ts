/**
 * `@kai-jobs/board` — Bull Board behind authentication, the monitoring page, `/metrics`,
 * the health checks and the HTTP enqueue API.
 */
export { createBoardApp } from './board-app.js';
export type { BoardApp } from './board-app.js';
export { startBoard } from './start-board.js';
export type { RunningBoard } from './start-board.js';
export {
  assertAuthConfig,
  AuthMode,
  AuthOptionsSchema,
  BoardOptionsSchema,
  DEFAULT_BOARD_HOST,
  DEFAULT_BOARD_PORT,
  MONITOR_QUEUE_NAME,
  MonitoringOptionsSchema,
  parseBoardOptions,
  isProxyAddress,
  parseStartBoardOptions,
  resolveThresholds,
  StartBoardOptionsSchema,
  ThresholdsSchema,
  TRUST_PROXY_TRUE_REFUSED,
  TrustProxySchema,
} from './config.js';
export type {
  AuthOptions,
  AuthOptionsInput,
  BoardOptions,
  BoardOptionsInput,
  MonitoringOptions,
  StartBoardOptions,
  StartBoardOptionsInput,
  TypeThresholds,
} from './config.js';
export { BOARD_ENV_VARIABLES, boardOptionsFromEnv } from './env.js';
export type { BoardEnvConfig, Environment, StatusStoreChoice } from './env.js';
export { AuthOutcome, CredentialChecker, matchesDigest, sha256 } from './auth/credentials.js';
export type { AuthCheck, Credentials } from './auth/credentials.js';
export { FailureLimiter } from './auth/failure-limiter.js';
export type { FailureLimiterOptions } from './auth/failure-limiter.js';
export { clientKey, expandIpv6 } from './auth/client-key.js';
export { isLoopbackAddress, isLoopbackHost, unmapIpv4 } from './auth/loopback.js';
export { isMutation, normaliseRoutePath, readOnlyGuard, SAFE_METHODS, unsupportedBullBoardMutations } from './http/guards.js';
export { createJsonBodyParser, JSON_MEDIA_TYPES, jsonBodyGuard, jsonDepth, MAX_JSON_DEPTH, sendJsonBodyError } from './http/json-body.js';
export type { JsonBodyOptions } from './http/json-body.js';
export { crossOriginReason, sameOriginGuard } from './http/same-origin-guard.js';
export type { CrossOriginVerdict } from './http/same-origin-guard.js';
export { buildFontsStylesheet, createFontsRouter, FONTS_STYLESHEET_PATH, selfHostBullBoardHtml } from './http/board-fonts.js';
export { BOARD_CSP, MONITORING_CSP, securityHeaders } from './http/security-headers.js';
export { escapeHtml, html, SafeHtml } from './monitoring/html.js';
export { barList, estimateTextWidth, leftMarginFor, linePaths, niceCeiling, SERIES_COLORS, timeChart } from './monitoring/svg-charts.js';
export type { BarListInput, ChartSeries, TimeChartInput } from './monitoring/svg-charts.js';
export { judgeMonitorHealth, loadMonitoringSnapshot, mergeRecoveries, MonitorHealthState } from './monitoring/monitoring-data.js';
export type { MonitorHealth, MonitoringDeps, MonitoringSnapshot, RecoveryEntry, TypeSnapshot } from './monitoring/monitoring-data.js';
export { formatDuration, formatHeadroom, HEADROOM_CAP } from './monitoring/format.js';
export { renderMonitoringPage, renderMonitoringUnavailable } from './monitoring/monitoring-page.js';
export type { MonitoringPageOptions } from './monitoring/monitoring-page.js';
