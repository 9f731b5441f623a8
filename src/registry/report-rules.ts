/**
 * What a registry accepts as a usage report, once its signature verified (usage-reports.ts). Pure: the store
 * (local/report-store.ts) calls these inside its write transaction. A report is accepted only if
 *
 *   - its period ends at most maxSkewMs after the registry clock     ERR_REPORT_FUTURE
 *     (end <= now + maxSkewMs)
 *   - its period ended at most maxAgeMs ago (end >= now - maxAgeMs)  ERR_REPORT_EXPIRED
 *   - its worker is on the allow-list, when there is one            ERR_REGISTRY_NOT_ALLOWED
 *   - the store holds no other report of that worker for that start  ERR_REPORT_CONFLICT
 *     (a report, once published, is final; the same report again — compared by its canonical form, so even
 *     with another signature, sr25519 signing being randomized — is accepted and changes nothing)
 *   - its period overlaps no period of another report of that worker ERR_REPORT_OVERLAP
 *     (a worker counts each instant once: [s, e) and [s + 1, e + 1) would count it twice)
 *   - the worker's reports fit under maxReportsPerWorker and          ERR_REGISTRY_QUOTA
 *     maxBytesPerWorker (after its expired ones go)
 *   - a new report fits under maxReports and maxBytes (after expired  ERR_REGISTRY_FULL
 *     ones go)
 */
import { invalidOption, PRouterError } from '../errors.js'
import {
  DEFAULT_MAX_REPORTS,
  DEFAULT_MAX_REPORT_STORE_BYTES,
  DEFAULT_MAX_REPORT_BYTES_PER_WORKER,
  DEFAULT_MAX_REPORTS_PER_WORKER,
  DEFAULT_REPORT_RETENTION,
  DEFAULT_ROUTER_INFO_MAX_SKEW,
} from '../constants.js'
import { canonicalReport } from '../metering/report.js'
import type { UsageReport } from '../metering/report.js'

export interface ReportRules {
  /** How long after its period ends a report is kept (and accepted). */
  maxAgeMs: number
  /** How far after the registry clock a period may end (clock skew). */
  maxSkewMs: number
  /** Most reports held at once. */
  maxReports: number
  /** Most bytes (canonical JSON) held at once. */
  maxBytes: number
  /** Most reports of one worker held at once (30 days of 10-min periods are 4320). */
  maxReportsPerWorker: number
  /** Most bytes of one worker's reports held at once. */
  maxBytesPerWorker: number
  /** Worker keys (0x-hex, lower case) whose reports are taken; undefined: anyone's. */
  allowList?: ReadonlySet<string>
}

export const DEFAULT_REPORT_RULES: ReportRules = {
  maxAgeMs: DEFAULT_REPORT_RETENTION,
  // the same clock skew as RouterInfos: both come from workers' clocks
  maxSkewMs: DEFAULT_ROUTER_INFO_MAX_SKEW,
  maxReports: DEFAULT_MAX_REPORTS,
  maxBytes: DEFAULT_MAX_REPORT_STORE_BYTES,
  maxReportsPerWorker: DEFAULT_MAX_REPORTS_PER_WORKER,
  maxBytesPerWorker: DEFAULT_MAX_REPORT_BYTES_PER_WORKER,
}

/** The defaults with `overrides`, each checked (ERR_INVALID_OPTION names the option). */
export function reportRules(overrides: Partial<ReportRules> = {}): ReportRules {
  const rules = { ...DEFAULT_REPORT_RULES, ...overrides }
  wholeNumber(rules.maxAgeMs, 'reportRules.maxAgeMs', 1)
  wholeNumber(rules.maxSkewMs, 'reportRules.maxSkewMs', 0)
  wholeNumber(rules.maxReports, 'reportRules.maxReports', 1)
  wholeNumber(rules.maxBytes, 'reportRules.maxBytes', 1)
  wholeNumber(rules.maxReportsPerWorker, 'reportRules.maxReportsPerWorker', 1)
  wholeNumber(rules.maxBytesPerWorker, 'reportRules.maxBytesPerWorker', 1)
  return rules
}

function wholeNumber(value: number, option: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalidOption(option, `must be a whole number >= ${min}, got ${String(value)}`)
  }
}

/** 'unchanged': this report is held already (an idempotent repeat); 'store': write it. */
export type ReportVerdict = 'store' | 'unchanged'

/** Throws the rule's code, or says whether to store; `held` is the store's report of that worker and start. */
export function checkReport(
  report: UsageReport,
  held: UsageReport | undefined,
  now: number,
  rules: ReportRules = DEFAULT_REPORT_RULES,
): ReportVerdict {
  checkTime(report, now, rules)
  if (rules.allowList !== undefined && !rules.allowList.has(report.workerKey)) {
    throw new PRouterError('ERR_REGISTRY_NOT_ALLOWED', `worker ${report.workerKey} is not on the allow-list`)
  }
  if (held === undefined) return 'store'
  if (canonicalReport(held) === canonicalReport(report)) return 'unchanged'
  throw new PRouterError(
    'ERR_REPORT_CONFLICT',
    `the registry holds another report of ${report.workerKey} for the period starting ${iso(report.start)}`,
    { detail: { workerKey: report.workerKey, start: report.start } },
  )
}

/** True when a report whose period ended at `end` is past the age limit (and may be evicted). */
export function isReportExpired(end: number, now: number, rules: ReportRules): boolean {
  return end < now - rules.maxAgeMs
}

/**
 * Throws ERR_REPORT_OVERLAP when `report`'s period shares an instant with one of `others` (the same
 * worker's held periods, other starts than the report's).
 */
export function checkNoOverlap(report: UsageReport, others: Iterable<{ start: number; end: number }>): void {
  for (const other of others) {
    if (other.start === report.start || !(other.start < report.end && report.start < other.end)) continue
    throw new PRouterError(
      'ERR_REPORT_OVERLAP',
      `report of ${report.workerKey} for [${iso(report.start)}, ${iso(report.end)}) overlaps its report ` +
        `for [${iso(other.start)}, ${iso(other.end)}): a worker reports each instant once`,
      { detail: { workerKey: report.workerKey, start: report.start, heldStart: other.start } },
    )
  }
}

function checkTime(report: UsageReport, now: number, rules: ReportRules): void {
  const period = `report of ${report.workerKey} for ${iso(report.start)}`
  if (report.end > now + rules.maxSkewMs) {
    throw new PRouterError(
      'ERR_REPORT_FUTURE',
      `${period}: the period ends at ${iso(report.end)}, ahead of ${iso(now)}`,
    )
  }
  if (isReportExpired(report.end, now, rules)) {
    throw new PRouterError(
      'ERR_REPORT_EXPIRED',
      `${period}: the period ended at ${iso(report.end)}, more than ${rules.maxAgeMs} ms before ${iso(now)}`,
    )
  }
}

/** ISO time, or the number where it is past what Date can show (a hostile report may carry one). */
function iso(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString()
}
