/** Usage reports in the embedded LMDB store: rules on publish, range queries, a moved clock, eviction, persistence. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import type { LocalStoreInit } from '../../../src/registry/local/store.js'
import { openTempStore, type OpenedStore } from '../../helpers/local-store.js'
import { reportKey } from '../../../src/registry/local/report-store.js'
import { signBinding, workerKeyFromSuri } from '../../../src/identity/index.js'
import type { SignedUsageReport } from '../../../src/metering/report.js'
import { isPRouterError } from '../../../src/errors.js'
import { REPORT_PERIOD as P, signedReport } from '../../helpers/registry-compliance.js'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
const T0 = 1_764_756_000_000 // a period start
const alice = await workerKeyFromSuri('//Alice')
const bob = await workerKeyFromSuri('//Bob')
const charlie = await workerKeyFromSuri('//Charlie')

const open = (t: TestContext, init: Partial<LocalStoreInit> = {}): Promise<OpenedStore> =>
  openTempStore(t, T0 + 10 * P, init)

const code = (c: string) => (err: unknown) => isPRouterError(err) && err.code === c
const starts = (list: SignedUsageReport[]) => list.map((r) => [(r.report.start - T0) / P, r.report.workerKey])

test('keys sort by period start, then worker', () => {
  assert.equal(reportKey(T0, alice.workerKey), `000${T0}/${alice.workerKey}`)
  assert.equal(reportKey(0, alice.workerKey), `${'0'.repeat(16)}/${alice.workerKey}`)
  assert.ok(reportKey(999, bob.workerKey) < reportKey(1000, alice.workerKey))
})

test('published reports are listed by start, then worker, exactly as signed', async (t) => {
  const { store } = await open(t)
  const reports = [signedReport(bob, T0 + P), signedReport(alice, T0 + P), signedReport(alice, T0)]
  for (const r of reports) {
    assert.deepEqual(await store.reports.publish(r), { workerKey: r.report.workerKey, start: r.report.start })
  }
  const [ab, aa, a0] = reports
  const byWorker = alice.workerKey < bob.workerKey ? [aa, ab] : [ab, aa]
  assert.deepEqual(await store.reports.list({}), [a0, ...byWorker])
  assert.deepEqual(await store.reports.list({ workerKey: bob.workerKey }), [ab])
  assert.deepEqual(await store.reports.list({ workerKey: bob.workerKey.toUpperCase().replace('0X', '0x') }), [
    ab,
  ])
  assert.deepEqual(await store.reports.list({ workerKey: charlie.workerKey }), [])
})

test('a range lists the periods that overlap [from, to), a day-long one included', async (t) => {
  const { store, clock } = await open(t)
  clock.now = T0 + 3 * DAY
  for (const start of [T0, T0 + P, T0 + 2 * P]) await store.reports.publish(signedReport(alice, start))
  const dayLong = signedReport(bob, T0 - DAY + P, 100, DAY) // ends at T0 + P
  await store.reports.publish(dayLong)
  const range = async (from?: number, to?: number) => starts(await store.reports.list({ from, to }))
  const a = alice.workerKey
  assert.deepEqual(await range(T0 + P, T0 + 2 * P), [[1, a]], 'one period exactly')
  assert.deepEqual(
    await range(T0 + P + 1, T0 + 2 * P + 1),
    [
      [1, a],
      [2, a],
    ],
    'one ms into the next',
  )
  assert.deepEqual(await range(T0 + 3 * P), [], 'from the end of the last one: nothing')
  assert.deepEqual(await range(undefined, T0), [[-DAY / P + 1, bob.workerKey]], 'before T0: the day-long one')
  assert.deepEqual(
    await range(T0 + P - 1, T0 + P),
    [
      [-DAY / P + 1, bob.workerKey],
      [0, a],
    ],
    'its last ms',
  )
  assert.deepEqual(await range(T0 + P, T0 + P), [], 'an empty range')
  assert.deepEqual((await range()).length, 4)
})

test('bad queries are refused with a code', async (t) => {
  const { store } = await open(t)
  await assert.rejects(store.reports.list({ from: -1 }), code('ERR_INVALID_ARGUMENT'))
  await assert.rejects(store.reports.list({ to: 1.5 }), code('ERR_INVALID_ARGUMENT'))
  await assert.rejects(store.reports.list({ from: 10, to: 9 }), code('ERR_INVALID_ARGUMENT'))
  await assert.rejects(store.reports.list({ workerKey: '0x12' }), code('ERR_INVALID_WORKER_KEY'))
})

test('the same report again returns the same receipt; another one for the period conflicts', async (t) => {
  const { store } = await open(t)
  const held = signedReport(alice, T0)
  const receipt = await store.reports.publish(held)
  assert.deepEqual(await store.reports.publish(held), receipt)
  assert.deepEqual(await store.reports.publish(signedReport(alice, T0)), receipt, 'signed anew')
  await assert.rejects(store.reports.publish(signedReport(alice, T0, 101)), code('ERR_REPORT_CONFLICT'))
  assert.deepEqual(await store.reports.list({}), [held], 'the first one stays')
})

test('concurrent publishes for one period settle on one report', async (t) => {
  const { store } = await open(t)
  const versions = Array.from({ length: 10 }, (_, i) => signedReport(alice, T0, 100 + i))
  const results = await Promise.allSettled(versions.map((v) => store.reports.publish(v)))
  const accepted = results.filter((r) => r.status === 'fulfilled')
  assert.equal(accepted.length, 1)
  for (const r of results) {
    if (r.status === 'rejected') assert.ok(code('ERR_REPORT_CONFLICT')(r.reason), String(r.reason))
  }
  assert.equal((await store.reports.list({})).length, 1)
})

test('the clock decides: a period ending ahead of it, or too long ago, is refused', async (t) => {
  const { store, clock } = await open(t)
  const report = signedReport(alice, T0)
  clock.now = report.report.end - 10 * MINUTE - 1
  await assert.rejects(store.reports.publish(report), code('ERR_REPORT_FUTURE'))
  clock.now = report.report.end + 30 * DAY + 1
  await assert.rejects(store.reports.publish(report), code('ERR_REPORT_EXPIRED'))
  const { store: short, clock: shortClock } = await open(t, { reportRules: { maxAgeMs: DAY, maxSkewMs: 0 } })
  shortClock.now = report.report.end - 1
  await assert.rejects(short.reports.publish(report), code('ERR_REPORT_FUTURE'))
  shortClock.now = report.report.end + DAY
  await short.reports.publish(report)
  assert.deepEqual(await store.reports.list({}), [])
  assert.deepEqual(await short.reports.list({}), [report])
})

test('when full, a new report takes the room of expired ones, or is refused with ERR_REGISTRY_FULL', async (t) => {
  const { store, clock } = await open(t, { reportRules: { maxReports: 3, maxAgeMs: DAY } })
  clock.now = T0 + 4 * P
  const old = [signedReport(alice, T0), signedReport(bob, T0), signedReport(alice, T0 + P)]
  for (const r of old) await store.reports.publish(r)
  const fresh = signedReport(alice, T0 + 3 * P)
  await assert.rejects(store.reports.publish(fresh), code('ERR_REGISTRY_FULL'))
  assert.deepEqual(await store.reports.publish(signedReport(bob, T0)), {
    workerKey: bob.workerKey,
    start: T0,
  })
  clock.now = T0 + P + DAY + 1 // the two of T0 have expired, the one of T0 + P has not
  await store.reports.publish(fresh)
  assert.deepEqual(starts(await store.reports.list({})), [
    [1, alice.workerKey],
    [3, alice.workerKey],
  ])
  await store.reports.publish(signedReport(bob, T0 + 3 * P))
  await assert.rejects(store.reports.publish(signedReport(charlie, T0 + 3 * P)), code('ERR_REGISTRY_FULL'))
})

test('a forged or tampered report is refused with ERR_REPORT_SIGNATURE, nothing stored', async (t) => {
  const { store } = await open(t)
  const signed = signedReport(alice, T0)
  const tampered = structuredClone(signed)
  tampered.report.createdAt += 1
  await assert.rejects(store.reports.publish(tampered), code('ERR_REPORT_SIGNATURE'))
  const byBob = signedReport(bob, T0)
  const forged = { ...byBob, report: { ...byBob.report, workerKey: alice.workerKey } }
  await assert.rejects(store.reports.publish(forged), code('ERR_REPORT_SIGNATURE'))
  const last = signed.signature.endsWith('0') ? '1' : '0'
  const flipped = { ...signed, signature: `${signed.signature.slice(0, -1)}${last}` }
  await assert.rejects(store.reports.publish(flipped), code('ERR_REPORT_SIGNATURE'))
  assert.deepEqual(await store.reports.list({}), [])
})

test('a malformed report is refused with ERR_REPORT_MALFORMED', async (t) => {
  const { store } = await open(t)
  const signed = signedReport(alice, T0)
  const cases: unknown[] = [
    null,
    '{',
    { report: signed.report },
    { ...signed, extra: 1 },
    { ...signed, report: { ...signed.report, end: signed.report.start } },
    { ...signed, report: { ...signed.report, start: T0 + 0.5 } },
  ]
  for (const input of cases) {
    await assert.rejects(
      store.reports.publish(input as SignedUsageReport),
      code('ERR_REPORT_MALFORMED'),
      JSON.stringify(input),
    )
  }
  assert.deepEqual(await store.reports.list({}), [])
})

test('reports persist across reopening, beside bindings, which stay as they were', async (t) => {
  const { store, clock, reopen } = await open(t)
  const reports = [signedReport(alice, T0), signedReport(bob, T0 + P)]
  for (const r of reports) await store.reports.publish(r)
  clock.now = Date.now()
  const binding = signBinding(alice, ['i2p://' + 'a'.repeat(52) + '.b32.i2p'], clock.now - 1000)
  await store.publish(binding)
  await store.close()
  const again = reopen()
  assert.deepEqual(await again.reports.list({}), reports)
  assert.deepEqual(await again.all(), [binding], 'bindings are read from their key range only')
  clock.now = T0 + 10 * P
  await assert.rejects(again.reports.publish(signedReport(alice, T0, 101)), code('ERR_REPORT_CONFLICT'))
})

test('bad rule options fail when the store opens; an aborted call is refused before it starts', async (t) => {
  await assert.rejects(open(t, { reportRules: { maxReports: 0 } }), code('ERR_INVALID_OPTION'))
  const { store } = await open(t)
  const signal = AbortSignal.abort(new Error('stop'))
  await assert.rejects(store.reports.publish(signedReport(alice, T0), { signal }), /stop/)
  assert.throws(() => store.reports.list({}, { signal }), /stop/)
})
