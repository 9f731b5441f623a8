/** The usage report rules, pure: each code at its boundary, idempotent repeats, room, options. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { workerKeyFromSuri } from '../../../src/identity/index.js'
import type { UsageReport } from '../../../src/metering/report.js'
import {
  checkReport,
  checkNoOverlap,
  DEFAULT_REPORT_RULES,
  isReportExpired,
  reportRules,
} from '../../../src/registry/report-rules.js'
import { isPRouterError } from '../../../src/errors.js'
import { REPORT_PERIOD, signedReport } from '../../helpers/registry-compliance.js'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
const alice = await workerKeyFromSuri('//Alice')
const START = 1_764_756_000_000
const report = signedReport(alice, START).report
const END = report.end

function codeOf(fn: () => unknown): string {
  try {
    return String(fn())
  } catch (err) {
    assert.ok(isPRouterError(err), String(err))
    return err.code
  }
}

test('defaults: kept 30 days, 10 minutes of skew, 200 000 reports, 5000 and 64 MiB per worker', () => {
  assert.deepEqual(DEFAULT_REPORT_RULES, {
    maxAgeMs: 30 * DAY,
    maxSkewMs: 10 * MINUTE,
    maxReports: 200_000,
    maxBytes: 1024 * 1024 * 1024,
    maxReportsPerWorker: 5000,
    maxBytesPerWorker: 64 * 1024 * 1024,
  })
})

test('a period may end at most 10 min after the registry clock, bound included', () => {
  assert.equal(checkReport(report, undefined, END), 'store')
  assert.equal(checkReport(report, undefined, END - 10 * MINUTE), 'store')
  assert.equal(
    codeOf(() => checkReport(report, undefined, END - 10 * MINUTE - 1)),
    'ERR_REPORT_FUTURE',
  )
  const noSkew = { ...DEFAULT_REPORT_RULES, maxSkewMs: 0 }
  assert.equal(checkReport(report, undefined, END, noSkew), 'store')
  assert.equal(
    codeOf(() => checkReport(report, undefined, END - 1, noSkew)),
    'ERR_REPORT_FUTURE',
  )
})

test('a period that ended more than maxAge ago is expired, bound included', () => {
  assert.equal(checkReport(report, undefined, END + 30 * DAY), 'store')
  assert.equal(
    codeOf(() => checkReport(report, undefined, END + 30 * DAY + 1)),
    'ERR_REPORT_EXPIRED',
  )
  const rules = { ...DEFAULT_REPORT_RULES, maxAgeMs: MINUTE }
  assert.equal(isReportExpired(END, END + MINUTE, rules), false)
  assert.equal(isReportExpired(END, END + MINUTE + 1, rules), true)
  assert.throws(
    () => checkReport(report, undefined, END + MINUTE + 1, rules),
    /ended at .*, more than 60000 ms/,
  )
})

test('the same report again is unchanged, even signed anew; another one for that period conflicts', () => {
  const again = signedReport(alice, START)
  assert.notEqual(again.signature, signedReport(alice, START).signature, 'sr25519 signing is randomized')
  assert.equal(checkReport(report, again.report, END), 'unchanged')
  assert.equal(checkReport(report, structuredClone(report), END), 'unchanged')
  const other = signedReport(alice, START, 101).report
  assert.equal(
    codeOf(() => checkReport(other, report, END)),
    'ERR_REPORT_CONFLICT',
  )
  const longer: UsageReport = { ...report, end: END + 1 }
  assert.equal(
    codeOf(() => checkReport(longer, report, END)),
    'ERR_REPORT_CONFLICT',
  )
  assert.throws(
    () => checkReport(other, report, END),
    /holds another report of 0x[0-9a-f]{64} for the period/,
  )
})

test('the clock is checked before the held report: an expired repeat is refused', () => {
  assert.equal(
    codeOf(() => checkReport(report, report, END + 31 * DAY)),
    'ERR_REPORT_EXPIRED',
  )
})

test('a period end past what Date can show still gives a coded error', () => {
  const far: UsageReport = { ...report, start: 9e15 - REPORT_PERIOD, end: 9e15, gaps: [] }
  assert.equal(
    codeOf(() => checkReport(far, undefined, END)),
    'ERR_REPORT_FUTURE',
  )
})

test('overlap: a period sharing an instant with another of the worker is refused; touching is fine', () => {
  const held = [{ start: START, end: START + REPORT_PERIOD }]
  const at =
    (start: number, end = start + REPORT_PERIOD) =>
    () => {
      checkNoOverlap({ ...report, start, end }, held)
    }
  assert.equal(codeOf(at(START + 1)), 'ERR_REPORT_OVERLAP')
  assert.equal(codeOf(at(START - 1)), 'ERR_REPORT_OVERLAP')
  assert.equal(codeOf(at(START - 100, START + 2 * REPORT_PERIOD)), 'ERR_REPORT_OVERLAP', 'one that spans it')
  at(START + REPORT_PERIOD)()
  at(START - REPORT_PERIOD)()
  at(START)() // the same start is the conflict rule's, not this one's
})

test('rule options are checked and named', () => {
  assert.deepEqual(reportRules({ maxReports: 5 }), { ...DEFAULT_REPORT_RULES, maxReports: 5 })
  assert.deepEqual(reportRules({ maxSkewMs: 0 }), { ...DEFAULT_REPORT_RULES, maxSkewMs: 0 })
  for (const [option, value] of [
    ['maxReports', 0],
    ['maxAgeMs', 0],
    ['maxSkewMs', -1],
    ['maxAgeMs', 1.5],
  ] as const) {
    assert.throws(
      () => reportRules({ [option]: value }),
      (err) => isPRouterError(err, 'ERR_INVALID_OPTION') && err.message.includes(`reportRules.${option}`),
    )
  }
})
