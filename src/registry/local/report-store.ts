/**
 * Usage reports in the local registry: the LMDB named database `usage-reports`, one record per worker and
 * period under the key `<start, 16 zero-padded digits>/<workerKey>`, so keys sort by period start, then
 * worker, and a range of periods is one key range scan. A record holds the signed report as canonical JSON,
 * its period end (so eviction and range queries need not parse reports) and when it was stored.
 *
 * Publishing verifies the report (verifyUsageReport) first, then applies the rules (../report-rules.ts)
 * inside one write transaction of the environment, so concurrent publishes for one worker and period settle
 * on one report. When the store is full, a new report takes the room of expired ones; with none expired it
 * is refused (ERR_REGISTRY_FULL).
 */
import type { RootDatabase } from 'lmdb'
import type { Logger } from '../../logger.js'
import { DAY } from '../../constants.js'
import { PRouterError } from '../../errors.js'
import { parseWorkerKey, workerKeyHex } from '../../identity/index.js'
import { parseSignedUsageReport } from '../../metering/report.js'
import type { SignedUsageReport } from '../../metering/report.js'
import type { ReportQuery, ReportReceipt } from '../backend.js'
import { checkReport, checkReportRoom, isReportExpired } from '../report-rules.js'
import type { ReportRules, ReportVerdict } from '../report-rules.js'
import { verifyUsageReport } from '../usage-reports.js'

interface ReportRecord {
  /** The signed report, canonical JSON (as verifyUsageReport returned it). */
  json: string
  /** Its period end, ms. */
  end: number
  storedAt: number
}

export interface ReportStore {
  /** Verify, apply the rules, store; the same report again returns the same receipt. */
  publish(input: unknown): Promise<ReportReceipt>
  /** Reports whose period overlaps [from, to), of one worker if asked, by start then worker key; unverified. */
  list(query: ReportQuery): SignedUsageReport[]
}

export interface ReportStoreInit {
  rules: ReportRules
  now: () => number
}

/** Digits of a period start in a key: every safe integer fits (2^53 - 1 has 16). */
const START_DIGITS = 16

/** The record key of a worker's period: `<start, zero-padded>/<workerKey>`. */
export function reportKey(start: number, workerKey: string): string {
  return `${startKey(start)}/${workerKey}`
}

function startKey(start: number): string {
  return String(start).padStart(START_DIGITS, '0')
}

export function openReportStore<V>(
  root: RootDatabase<V, string>,
  init: ReportStoreInit,
  log: Logger,
): ReportStore {
  const db = root.openDB<ReportRecord, string>({ name: 'usage-reports' })
  const { rules, now } = init

  /** Within the write transaction: drop expired reports until a new one fits, or refuse it. */
  const makeRoom = (at: number): void => {
    let count = db.getCount()
    if (count < rules.maxReports) return
    // a report ends after it starts: only reports that started before the age limit can have expired
    const older = db.getRange({ end: startKey(Math.max(0, at - rules.maxAgeMs)) })
    const expired = [...older].filter(({ value }) => isReportExpired(value.end, at, rules))
    for (const { key } of expired) void db.remove(key)
    count -= expired.length
    if (expired.length > 0) log.info({ evicted: expired.length }, 'expired usage reports evicted')
    checkReportRoom(count, rules)
  }

  /** The held report of that worker and period, if any (parsed: the rules compare its signed bytes). */
  const heldAt = (key: string): SignedUsageReport | undefined => {
    const record = db.get(key)
    return record === undefined ? undefined : parseSignedUsageReport(record.json)
  }

  return {
    publish: async (input) => {
      const signed = verifyUsageReport(input)
      const { workerKey, start, end } = signed.report
      const key = reportKey(start, workerKey)
      const json = JSON.stringify(signed)
      const verdict = await root.transaction((): ReportVerdict => {
        const at = now()
        const verdict = checkReport(signed.report, heldAt(key)?.report, at, rules)
        if (verdict === 'unchanged') return verdict
        makeRoom(at) // 'store' only when nothing is held for that key: a new report
        void db.put(key, { json, end, storedAt: at })
        return verdict
      })
      if (verdict === 'store') log.info({ workerKey, start }, 'usage report stored')
      return { workerKey, start }
    },
    list: (query) => {
      const { from, to, workerKey } = checkQuery(query)
      // a period is at most a day long: none that starts a day or more before `from` reaches into the range
      const range = {
        start: startKey(Math.max(0, from - DAY)),
        ...(to === undefined ? {} : { end: startKey(to) }),
      }
      const suffix = workerKey === undefined ? '' : `/${workerKey}`
      return [...db.getRange(range)]
        .filter(({ key, value }) => value.end > from && key.endsWith(suffix))
        .map(({ value }) => JSON.parse(value.json) as SignedUsageReport)
    },
  }
}

/** The query with its defaults, checked: ERR_INVALID_ARGUMENT, ERR_INVALID_WORKER_KEY. */
function checkQuery(query: ReportQuery): { from: number; to?: number; workerKey?: string } {
  const from = query.from ?? 0
  const { to } = query
  time(from, 'from')
  if (to !== undefined) time(to, 'to')
  if (to !== undefined && to < from) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `report query: to (${to}) is before from (${from})`)
  }
  const workerKey = query.workerKey === undefined ? undefined : workerKeyHex(parseWorkerKey(query.workerKey))
  return { from, to, workerKey }
}

function time(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `report query: ${name} is not a whole number of ms >= 0`)
  }
}
