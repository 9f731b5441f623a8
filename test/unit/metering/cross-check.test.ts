/**
 * Cross-check of usage reports: the two figures of each flow within tolerance or not (the boundary
 * included), a peer that does not name the worker back, equivocation and identical duplicates.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isPRouterError } from '../../../src/errors.js'
import { crossCheck, type MismatchFinding } from '../../../src/metering/cross-check.js'
import { signUsageReport, verifyUsageReport } from '../../../src/registry/usage-reports.js'
import {
  devKeys,
  devWorkerKeys,
  exampleReports,
  PERIOD,
  T0,
  usageReport,
} from '../../helpers/usage-reports.js'

const code = (c: string) => (err: unknown) => isPRouterError(err) && err.code === c

function mismatch(
  from: string,
  to: string,
  sent: number,
  received: number,
  limit: number,
  extra: Partial<MismatchFinding> = {},
): MismatchFinding {
  const difference = Math.abs(sent - received)
  return {
    kind: 'mismatch',
    start: T0,
    end: T0 + PERIOD,
    from,
    to,
    sent,
    received,
    difference,
    limit,
    ...extra,
  }
}

test('within tolerance, at its boundary, and over it', async () => {
  const k = await devWorkerKeys()
  const reports = [
    // Alice → Bob: 10 000 000 sent, 9 800 000 read: difference 200 000 = 2 % of 10 000 000: within
    // Bob → Alice: 1 000 000 sent, 900 000 read: difference 100 000 > max(20 000, 65 536): flagged
    usageReport(k.alice, {
      period: 0,
      transit: null,
      routerSent: null,
      peers: [
        [k.bob, 900_000, 10_000_000],
        [k.charlie, 0, 100_000],
      ],
    }),
    usageReport(k.bob, {
      period: 0,
      transit: null,
      routerSent: null,
      peers: [[k.alice, 9_800_000, 1_000_000]],
    }),
    // Alice → Charlie: 100 000 sent, 40 000 read: difference 60 000 <= 65 536 bytes: within
    // Charlie → Alice: 0 and 0: within
    usageReport(k.charlie, { period: 0, transit: null, routerSent: null, peers: [[k.alice, 40_000, 0]] }),
  ]
  const result = crossCheck(reports)
  assert.deepEqual(result.findings, [mismatch(k.bob, k.alice, 1_000_000, 900_000, 65_536)])
  assert.deepEqual(result.summary, {
    reports: 3,
    duplicates: 0,
    pairsChecked: 4,
    withinTolerance: 3,
    mismatches: 1,
    equivocations: 0,
    flagged: 1,
  })
  // no tolerance at all: every difference is flagged (limit 0), findings in key order of (from, to):
  // Bob 0x8eaf… < Charlie 0x90b5… < Alice 0xd435…
  const strict = crossCheck(reports, { relative: 0, bytes: 0 })
  assert.deepEqual(
    strict.findings.map((f) => (f.kind === 'mismatch' ? [f.from, f.to, f.difference, f.limit] : f.kind)),
    [
      [k.bob, k.alice, 100_000, 0],
      [k.alice, k.bob, 200_000, 0],
      [k.alice, k.charlie, 60_000, 0],
    ],
  )
  // 10 %: the Bob → Alice difference of 100 000 is within 10 % of 1 000 000 (and Alice → Charlie, 60 000,
  // within 64 KiB); with 10 % and no byte allowance, Alice → Charlie is over (60 000 > 10 000)
  assert.equal(crossCheck(reports, { relative: 0.1, bytes: 65_536 }).summary.flagged, 0)
  assert.deepEqual(
    crossCheck(reports, { relative: 0.1, bytes: 0 }).findings.map((f) => f.kind === 'mismatch' && f.to),
    [k.charlie],
  )
})

test('a peer that does not name the worker back counts 0; a peer without a report is not checked', async () => {
  const k = await devWorkerKeys()
  const reports = [
    // Alice says she wrote 500 000 bytes to Bob and 1 000 to Charlie, and 900 000 to Charlie in P2
    usageReport(k.alice, {
      period: 0,
      transit: null,
      routerSent: null,
      peers: [
        [k.bob, 0, 500_000],
        [k.charlie, 0, 1_000],
      ],
    }),
    usageReport(k.alice, { period: 1, transit: null, routerSent: null, peers: [[k.charlie, 0, 900_000]] }),
    // Bob and Charlie report P1 naming nobody; Charlie has no P2 report
    usageReport(k.bob, { period: 0, transit: null, routerSent: null }),
    usageReport(k.charlie, { period: 0, transit: null, routerSent: null }),
  ]
  const result = crossCheck(reports)
  assert.deepEqual(result.findings, [mismatch(k.alice, k.bob, 500_000, 0, 65_536, { unnamedBy: k.bob })])
  // Alice → Bob, Bob → Alice, Alice → Charlie (1 000 vs 0: within 64 KiB), Charlie → Alice; not P2
  assert.equal(result.summary.pairsChecked, 4)
  assert.equal(result.summary.withinTolerance, 3)
})

test('two different reports of one period are equivocation and take no part; identical ones merge', async () => {
  const pairs = await devKeys()
  const k = { alice: pairs.alice.workerKey, bob: pairs.bob.workerKey, charlie: pairs.charlie.workerKey }
  const aliceP1 = usageReport(k.alice, {
    period: 0,
    transit: 1,
    routerSent: null,
    peers: [[k.bob, 0, 700_000]],
  })
  // signed twice: sr25519 signatures differ, the report is the same
  const once = signUsageReport(aliceP1, pairs.alice)
  const twice = signUsageReport(aliceP1, pairs.alice)
  assert.notEqual(once.signature, twice.signature)
  const bobP1 = usageReport(k.bob, { period: 0, transit: null, routerSent: null, peers: [[k.alice, 0, 0]] })
  const same = [once, twice].map((s) => verifyUsageReport(s).report)
  const merged = crossCheck([...same, bobP1])
  assert.equal(merged.summary.duplicates, 1)
  assert.deepEqual(
    merged.findings.map((f) => f.kind),
    ['mismatch'],
    'Alice → Bob 700 000 vs 0',
  )
  // a second Alice report for P1 that says something else: equivocation, and her P1 is not compared
  const other = { ...aliceP1, createdAt: aliceP1.createdAt + 1 }
  const result = crossCheck([...same, other, bobP1])
  assert.deepEqual(result.findings, [{ kind: 'equivocation', start: T0, worker: k.alice, versions: 2 }])
  assert.deepEqual(result.summary, {
    reports: 3,
    duplicates: 1,
    pairsChecked: 0,
    withinTolerance: 0,
    mismatches: 0,
    equivocations: 1,
    flagged: 1,
  })
})

test('the worked example: Charlie over-claims what he sent Alice', async () => {
  const k = await devWorkerKeys()
  const result = crossCheck(exampleReports(k))
  // P1: Alice→Bob 300 000 vs 290 000 (within), Bob→Alice 100 000 vs 100 000, Alice→Charlie 50 000 vs 50 000,
  // Charlie→Alice 900 000 vs 200 000 (flagged), Bob→Charlie 10 000 vs 0 (within), Charlie→Bob 0 vs 0;
  // P2: Alice→Bob 200 000 vs 210 000 (within), Bob→Alice 0 vs 0; Alice→Charlie of P2: Charlie has no report
  assert.deepEqual(result.findings, [mismatch(k.charlie, k.alice, 900_000, 200_000, 65_536)])
  assert.equal(result.summary.pairsChecked, 8)
})

test('a bad tolerance is ERR_INVALID_ARGUMENT', () => {
  for (const tolerance of [
    { relative: -0.1, bytes: 0 },
    { relative: 2, bytes: 0 },
    { relative: Number.NaN, bytes: 0 },
    { relative: 0.02, bytes: 1.5 },
  ]) {
    assert.throws(() => crossCheck([], tolerance), code('ERR_INVALID_ARGUMENT'), JSON.stringify(tolerance))
  }
})
