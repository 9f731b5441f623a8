/**
 * Usage reports in the local registry: a size-capped table (capped-store.ts) named `usage-reports.v2`, one
 * record per worker and period under the key `<start, 16 zero-padded digits>/<workerKey>`, so keys sort by
 * period start, then worker, and a range of periods is one key range scan; its owner is the worker, so every
 * worker has a quota (count and bytes) besides the store's caps. A record holds the signed report as
 * canonical JSON (served as it is, never parsed again to list it) and its period end.
 *
 * Publishing verifies the report (verifyUsageReport) first, then applies the rules (../report-rules.ts) inside
 * one write transaction of the environment, so concurrent publishes for one worker settle on one report per
 * period and no two overlapping periods. Lists come in pages (`page`): at most `limit` reports and
 * MAX_REPORTS_PAGE_BYTES, and a cursor (the last key) to go on from.
 */
import type { RootDatabase } from 'lmdb'
import type { Logger } from '../../logger.js'
import { DAY, MAX_REPORTS_PAGE, MAX_REPORTS_PAGE_BYTES } from '../../constants.js'
import { PRouterError } from '../../errors.js'
import { parseWorkerKey, workerKeyHex } from '../../identity/index.js'
import { parseSignedUsageReport } from '../../metering/report.js'
import type { SignedUsageReport } from '../../metering/report.js'
import type { ReportQuery, ReportReceipt } from '../backend.js'
import { checkNoOverlap, checkReport, isReportExpired } from '../report-rules.js'
import type { ReportRules, ReportVerdict } from '../report-rules.js'
import { verifyUsageReport } from '../usage-reports.js'
import { openCappedStore } from './capped-store.js'

/** One page of a report list: the reports' canonical JSON texts, and where the next page starts. */
export interface ReportPage {
  json: string[]
  /** The cursor of the next page; absent on the last. */
  next?: string
}

export interface PageOptions {
  /** Cursor of a previous page (`next`): the list goes on after it. */
  after?: string
  /** Most reports (1..MAX_REPORTS_PAGE, the default). */
  limit?: number
}

export interface ReportStore {
  /** Verify, apply the rules, store; the same report again returns the same receipt. */
  publish(input: unknown): Promise<ReportReceipt>
  /** Every report whose period overlaps [from, to), of one worker if asked, by start then worker; unverified. */
  list(query: ReportQuery): SignedUsageReport[]
  /** One page of that list, as stored JSON. */
  page(query: ReportQuery, options?: PageOptions): ReportPage
}

export interface ReportStoreInit {
  rules: ReportRules
  now: () => number
}

/** Digits of a period start in a key: every safe integer fits (2^53 - 1 has 16). */
const START_DIGITS = 16
const CURSOR = /^\d{16}\/0x[0-9a-f]{64}$/

/** The record key of a worker's period: `<start, zero-padded>/<workerKey>`. */
export function reportKey(start: number, workerKey: string): string {
  return `${startKey(start)}/${workerKey}`
}

function startKey(start: number): string {
  return String(start).padStart(START_DIGITS, '0')
}

function startOf(key: string): number {
  return Number(key.slice(0, START_DIGITS))
}

export function openReportStore<V>(
  root: RootDatabase<V, string>,
  init: ReportStoreInit,
  log: Logger,
): ReportStore {
  const { rules, now } = init
  const table = openCappedStore(
    root,
    {
      name: 'usage-reports.v2',
      what: 'usage reports',
      caps: {
        maxRecords: rules.maxReports,
        maxBytes: rules.maxBytes,
        maxPerOwner: rules.maxReportsPerWorker,
        maxBytesPerOwner: rules.maxBytesPerWorker,
      },
      isExpired: (end, at) => isReportExpired(end, at, rules),
      // a report ends after it starts: only reports that started before the age limit can have expired
      expiredRange: (at) => ({ end: startKey(Math.max(0, at - rules.maxAgeMs)) }),
    },
    log,
  )

  /** The held report of that worker and period, if any (parsed: the rules compare its signed bytes). */
  const heldAt = (key: string): SignedUsageReport | undefined => {
    const record = table.get(key)
    return record === undefined ? undefined : parseSignedUsageReport(record.data)
  }

  /** The worker's held periods that may overlap [start, end): those starting a day before `start` or later. */
  const neighbours = (workerKey: string, start: number, end: number) => {
    const low = startKey(Math.max(0, start - DAY))
    const high = startKey(end)
    return table
      .keysOf(workerKey)
      .filter((k) => k >= low && k < high)
      .map((k) => ({ start: startOf(k), end: table.get(k)?.until ?? 0 }))
  }

  const scan = (query: ReportQuery, options: PageOptions): ReportPage => {
    const { from, to, workerKey } = checkQuery(query)
    const limit = checkLimit(options.limit)
    // a period is at most a day long: none that starts a day or more before `from` reaches into the range
    const lowest = startKey(Math.max(0, from - DAY))
    const after = options.after === undefined ? undefined : checkCursor(options.after)
    const range = {
      start: after !== undefined && after >= lowest ? after : lowest,
      ...(to === undefined ? {} : { end: startKey(to) }),
    }
    const suffix = workerKey === undefined ? '' : `/${workerKey}`
    const json: string[] = []
    let bytes = 0
    let last = ''
    for (const { key, value } of table.range(range)) {
      if (key === after || value.until <= from || !key.endsWith(suffix)) continue
      const text = value.data as string
      // a page holds at least one report, then stops at `limit` reports or before MAX_REPORTS_PAGE_BYTES
      if (json.length >= limit || (json.length > 0 && bytes + text.length > MAX_REPORTS_PAGE_BYTES)) {
        return { json, next: last }
      }
      json.push(text)
      bytes += text.length
      last = key
    }
    return { json }
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
        checkNoOverlap(signed.report, neighbours(workerKey, start, end))
        table.put(
          key,
          { data: json, owner: workerKey, until: end, bytes: Buffer.byteLength(json), storedAt: at },
          at,
        )
        return verdict
      })
      if (verdict === 'store') log.info({ workerKey, start }, 'usage report stored')
      return { workerKey, start }
    },
    list: (query) => {
      const out: SignedUsageReport[] = []
      let after: string | undefined
      for (;;) {
        const page = scan(query, after === undefined ? {} : { after })
        out.push(...page.json.map((text) => JSON.parse(text) as SignedUsageReport))
        if (page.next === undefined) return out
        after = page.next
      }
    },
    page: (query, options = {}) => scan(query, options),
  }
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_REPORTS_PAGE
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_REPORTS_PAGE) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `report query: limit must be 1..${MAX_REPORTS_PAGE}`)
  }
  return limit
}

function checkCursor(after: string): string {
  if (!CURSOR.test(after)) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', 'report query: after is not a cursor this registry gave')
  }
  return after
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
