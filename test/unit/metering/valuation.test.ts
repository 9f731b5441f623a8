/**
 * Valuation of usage reports against figures worked out by hand (the worked example of docs/reports.md):
 * transit capped by the router's own bytes sent, peer bytes confirmed by both sides over the whole window,
 * over-claims not paid, equivocating periods dropped, weights.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isPRouterError } from '../../../src/errors.js'
import { valueReports, type ValuationRow } from '../../../src/metering/valuation.js'
import { valuationCsv } from '../../../src/metering/valuation-format.js'
import { devWorkerKeys, exampleReports, PERIOD, T0, usageReport } from '../../helpers/usage-reports.js'

const code = (c: string) => (err: unknown) => isPRouterError(err) && err.code === c
const HOUR_WINDOW = { from: T0, to: T0 + 6 * PERIOD }

type Figures = Omit<ValuationRow, 'worker'>

function rowsOf(rows: readonly ValuationRow[]): Array<[string, Figures]> {
  return rows.map(({ worker, ...figures }) => [worker, figures])
}

/*
 * The example (test/helpers/usage-reports.ts), window 2026-12-03T10:00Z–11:00Z; P1 = 10:00–10:10, P2 = 10:10–10:20.
 *
 *                  transit   router.bytesSent   peers [bytesIn, bytesOut]
 *   Alice   P1   1 000 000   5 000 000          Bob [100 000, 300 000]  Charlie [200 000, 50 000]  anonymous [1M, 1M]
 *                                                (gap 60 s)
 *   Alice   P2   2 000 000   (no router)        Bob [0, 200 000]        Charlie [0, 70 000]
 *   Bob     P1   4 000 000   1 500 000          Alice [290 000, 100 000] Charlie [0, 10 000]
 *   Bob     P2   (no transit) 800 000           Alice [210 000, 0]
 *   Charlie P1     500 000     600 000          Alice [50 000, 900 000]
 *   Alice   11:00–11:10 (outside the window): transit 9 000 000 — not counted
 *
 * transit: Alice = min(1 000 000, 5 000 000) + 2 000 000 (no router: taken as is) = 3 000 000
 *          Bob   = min(4 000 000, 1 500 000) + 0 (no transit)                    = 1 500 000
 *          Charlie = min(500 000, 600 000)                                        =   500 000
 *
 * confirmed, over the periods both reported (sums first, then the min):
 *   Alice→Bob     P1+P2: Alice out 300 000 + 200 000 = 500 000; Bob in 290 000 + 210 000 = 500 000 → 500 000
 *                 (10 000 bytes in flight at 10:10 were counted by Alice in P1 and by Bob in P2: they cancel)
 *   Bob→Alice     P1: Bob out 100 000, Alice in 100 000 (P2: 0 and 0)                          → 100 000
 *   Alice→Charlie P1 only (Charlie has no P2 report, so Alice's 70 000 of P2 cannot be confirmed):
 *                 Alice out 50 000, Charlie in 50 000                                           →  50 000
 *   Charlie→Alice P1: Charlie out 900 000 (an over-claim), Alice in 200 000                      → 200 000
 *   Bob→Charlie   P1: Bob out 10 000, Charlie names no Bob: 0                                   →       0
 *   Charlie→Bob   P1: 0 and 0                                                                   →       0
 *   anonymous is not counted.
 *
 * peer:   Alice   = 500 000 + 100 000 + 50 000 + 200 000 = 850 000
 *         Bob     = 100 000 + 500 000 + 0 + 0             = 600 000
 *         Charlie = 200 000 + 50 000 + 0 + 0              = 250 000
 * score (weights 1, 1): Alice 3 850 000, Bob 2 100 000, Charlie 750 000; Σ = 6 700 000
 * share:  Alice 3 850 000 / 6 700 000 = 77/134 = 0.574627 (6 decimals)
 *         Bob   2 100 000 / 6 700 000 = 21/67  = 0.313433
 *         Charlie 750 000 / 6 700 000 = 15/134 = 0.111940
 * claimed (Σ bytesIn + bytesOut over named workers):
 *         Alice   = (100 000 + 300 000) + (200 000 + 50 000) + 200 000 + 70 000 = 920 000
 *         Bob     = (290 000 + 100 000) + 10 000 + 210 000                     = 610 000
 *         Charlie = 50 000 + 900 000                                           = 950 000
 * covered: Alice 600 000 − 60 000 + 600 000 = 1 140 000 ms; Bob 1 200 000 ms; Charlie 600 000 ms
 */
test('the worked example: shares as computed by hand', async () => {
  const k = await devWorkerKeys()
  const v = valueReports(exampleReports(k), HOUR_WINDOW)
  assert.deepEqual(rowsOf(v.rows), [
    [
      k.alice,
      {
        reports: 2,
        excluded: 0,
        coveredMs: 1_140_000,
        transitBytes: 3_000_000,
        peerBytesConfirmed: 850_000,
        peerBytesClaimed: 920_000,
        score: 3_850_000,
        share: 77 / 134,
      },
    ],
    [
      k.bob,
      {
        reports: 2,
        excluded: 0,
        coveredMs: 1_200_000,
        transitBytes: 1_500_000,
        peerBytesConfirmed: 600_000,
        peerBytesClaimed: 610_000,
        score: 2_100_000,
        share: 21 / 67,
      },
    ],
    [
      k.charlie,
      {
        reports: 1,
        excluded: 0,
        coveredMs: 600_000,
        transitBytes: 500_000,
        peerBytesConfirmed: 250_000,
        peerBytesClaimed: 950_000,
        score: 750_000,
        share: 15 / 134,
      },
    ],
  ])
  assert.equal(v.totalScore, 6_700_000)
  assert.deepEqual(v.equivocations, [])
  assert.deepEqual(valuationCsv(v).split('\n'), [
    'worker,reports,excluded,coveredMs,transitBytes,peerBytesConfirmed,peerBytesClaimed,score,share',
    `${k.alice},2,0,1140000,3000000,850000,920000,3850000,0.574627`,
    `${k.bob},2,0,1200000,1500000,600000,610000,2100000,0.313433`,
    `${k.charlie},1,0,600000,500000,250000,950000,750000,0.111940`,
    '',
  ])
})

/*
 * transitWeight 0, peerWeight 2: scores are 2 × peer: Alice 1 700 000, Bob 1 200 000, Charlie 500 000;
 * Σ = 3 400 000; shares 1/2, 12/34 = 6/17, 5/34.
 */
test('weights: transit 0, peer 2', async () => {
  const k = await devWorkerKeys()
  const v = valueReports(exampleReports(k), { ...HOUR_WINDOW, transitWeight: 0, peerWeight: 2 })
  assert.deepEqual(
    v.rows.map((r) => [r.worker, r.score, r.share]),
    [
      [k.alice, 1_700_000, 1 / 2],
      [k.bob, 1_200_000, 6 / 17],
      [k.charlie, 500_000, 5 / 34],
    ],
  )
})

/*
 * Charlie signs a second, different P1 report: both are dropped. Charlie has no report left, so nothing
 * with Charlie is confirmed: Alice's peer = Alice→Bob 500 000 + Bob→Alice 100 000 = 600 000, score
 * 3 000 000 + 600 000 = 3 600 000; Bob 1 500 000 + 600 000 = 2 100 000; Charlie 0. Σ = 5 700 000:
 * Alice 36/57 = 12/19, Bob 21/57 = 7/19, Charlie 0. Alice's claims are unchanged (920 000).
 */
test('a worker that equivocates loses both reports of that period', async () => {
  const k = await devWorkerKeys()
  const reports = exampleReports(k)
  const second = usageReport(k.charlie, {
    period: 0,
    transit: 5_000_000,
    routerSent: 6_000_000,
    peers: [[k.alice, 50_000, 900_000]],
  })
  const v = valueReports([...reports, second], HOUR_WINDOW)
  assert.deepEqual(
    v.rows.map((r) => [
      r.worker,
      r.reports,
      r.excluded,
      r.peerBytesConfirmed,
      r.peerBytesClaimed,
      r.score,
      r.share,
    ]),
    [
      [k.alice, 2, 0, 600_000, 920_000, 3_600_000, 12 / 19],
      [k.bob, 2, 0, 600_000, 610_000, 2_100_000, 7 / 19],
      [k.charlie, 0, 2, 0, 0, 0, 0],
    ],
  )
  assert.deepEqual(v.equivocations, [{ worker: k.charlie, start: T0, versions: 2 }])
})

test('identical duplicates count once; reports outside the window or straddling its end are left out', async () => {
  const k = await devWorkerKeys()
  const reports = exampleReports(k)
  const once = valueReports(reports, HOUR_WINDOW)
  assert.deepEqual(valueReports([...reports, ...structuredClone(reports)], HOUR_WINDOW), once)
  // the window 10:00–10:15 holds P1 only (P2 ends at 10:20): Alice→Bob is 300 000 vs 290 000 → 290 000
  const p1 = valueReports(reports, { from: T0, to: T0 + PERIOD + PERIOD / 2 })
  const alice = p1.rows.find((r) => r.worker === k.alice)
  assert.ok(alice)
  assert.equal(alice.reports, 1)
  assert.equal(alice.peerBytesConfirmed, 290_000 + 100_000 + 50_000 + 200_000)
  // 11:00–12:00 holds the one report of Alice with transit 9 000 000: she takes everything
  const later = valueReports(reports, { from: T0 + 6 * PERIOD, to: T0 + 12 * PERIOD })
  assert.deepEqual(
    later.rows.map((r) => [r.worker, r.transitBytes, r.share]),
    [[k.alice, 9_000_000, 1]],
  )
})

test('no work at all: every share is 0; no report: no row', async () => {
  const k = await devWorkerKeys()
  const idle = [usageReport(k.alice, { period: 0, transit: null, routerSent: null })]
  assert.deepEqual(
    valueReports(idle, HOUR_WINDOW).rows.map((r) => [r.score, r.share]),
    [[0, 0]],
  )
  assert.deepEqual(valueReports([], HOUR_WINDOW).rows, [])
})

test('byte sums past 2^53 and bad options are ERR_INVALID_ARGUMENT', async () => {
  const k = await devWorkerKeys()
  const big = Number.MAX_SAFE_INTEGER - 10
  const huge = [0, 1].map((period) => usageReport(k.alice, { period, transit: big, routerSent: null }))
  assert.throws(() => valueReports(huge, HOUR_WINDOW), code('ERR_INVALID_ARGUMENT'))
  assert.throws(() => valueReports([], { from: T0, to: T0 }), code('ERR_INVALID_ARGUMENT'))
  assert.throws(() => valueReports([], { ...HOUR_WINDOW, peerWeight: -1 }), code('ERR_INVALID_ARGUMENT'))
  assert.throws(
    () => valueReports([], { ...HOUR_WINDOW, transitWeight: Number.NaN }),
    code('ERR_INVALID_ARGUMENT'),
  )
})
