/** Usage reports: strict parsing, canonical signing, and any change to a signed report failing verification. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { workerKeyFromSuri } from '../../../src/identity/index.js'
import { parseSignedUsageReport, type UsageReport } from '../../../src/metering/report.js'
import { signUsageReport, verifyUsageReport } from '../../../src/registry/usage-reports.js'
import { isPRouterError } from '../../../src/errors.js'

const code = (c: string) => (err: unknown) => isPRouterError(err) && err.code === c

async function sample(): Promise<{
  report: UsageReport
  alice: Awaited<ReturnType<typeof workerKeyFromSuri>>
}> {
  const alice = await workerKeyFromSuri('//Alice')
  const bob = await workerKeyFromSuri('//Bob')
  const report: UsageReport = {
    version: 1,
    workerKey: alice.workerKey,
    start: 1_764_756_000_000,
    end: 1_764_756_600_000,
    transit: { bytes: 123_456, tunnelSeconds: 6000, tunnelsMax: 12 },
    router: { bytesSent: 9_000_000, bytesReceived: 8_000_000 },
    peers: [
      { peer: bob.workerKey, bytesIn: 2000, bytesOut: 1_048_700, requestsIn: 1, requestsOut: 3, errors: 0 },
      { peer: 'anonymous', bytesIn: 10, bytesOut: 20, requestsIn: 1, requestsOut: 0, errors: 1 },
    ].sort((a, b) => (a.peer < b.peer ? -1 : 1)),
    restarts: { daemon: 1, router: 0 },
    gaps: [{ start: 1_764_756_000_000, end: 1_764_756_012_000, cause: 'daemon-down' }],
    createdAt: 1_764_756_600_500,
  }
  return { report, alice }
}

test('a signed report verifies, through JSON text as well', async () => {
  const { report, alice } = await sample()
  const signed = signUsageReport(report, alice)
  assert.deepEqual(verifyUsageReport(signed).report, report)
  assert.deepEqual(verifyUsageReport(JSON.stringify(signed)).report, report)
})

test('changing any number of a signed report fails its signature', async () => {
  const { report, alice } = await sample()
  const signed = signUsageReport(report, alice)
  const edits: Array<(r: UsageReport) => void> = [
    (r) => (r.start -= 1),
    (r) => (r.end -= 1),
    (r) => ((r.transit as { bytes: number }).bytes += 1),
    (r) => ((r.router as { bytesSent: number }).bytesSent -= 1),
    (r) => ((r.peers[0] as { bytesOut: number }).bytesOut += 1),
    (r) => ((r.peers[1] as { bytesIn: number }).bytesIn += 1),
    (r) => (r.restarts.daemon = 0),
    (r) => (r.gaps = []),
    (r) => (r.createdAt += 1),
    (r) => (r.transit = null),
  ]
  for (const edit of edits) {
    const copy = structuredClone(signed)
    edit(copy.report)
    assert.throws(() => verifyUsageReport(copy), code('ERR_REPORT_SIGNATURE'), edit.toString())
  }
})

test('a report signed by another key, or with a flipped signature bit, fails', async () => {
  const { report, alice } = await sample()
  const bob = await workerKeyFromSuri('//Bob')
  assert.throws(() => signUsageReport(report, bob), code('ERR_INVALID_ARGUMENT'))
  const byBob = { report: { ...report, workerKey: bob.workerKey, peers: [] }, signature: '' }
  const foreign = signUsageReport(byBob.report, bob)
  assert.throws(
    () => verifyUsageReport({ ...foreign, report: { ...foreign.report, workerKey: alice.workerKey } }),
    code('ERR_REPORT_SIGNATURE'),
  )
  const signed = signUsageReport(report, alice)
  const bad = `${signed.signature.slice(0, 10)}${signed.signature[10] === '0' ? '1' : '0'}${signed.signature.slice(11)}`
  assert.throws(() => verifyUsageReport({ ...signed, signature: bad }), code('ERR_REPORT_SIGNATURE'))
})

test('malformed reports are refused with the field named', async () => {
  const { report, alice } = await sample()
  const signed = signUsageReport(report, alice)
  const cases: Array<[string, (s: Record<string, unknown> & { report: Record<string, unknown> }) => void]> = [
    ['unknown field', (s) => (s.report.extra = 1)],
    ['missing field', (s) => delete s.report.gaps],
    ['float bytes', (s) => (firstPeer(s).bytesIn = 1.5)],
    ['negative', (s) => ((s.report.transit as Record<string, unknown>).bytes = -1)],
    ['unsorted peers', (s) => (s.report.peers as unknown[]).reverse()],
    ['self as peer', (s) => (firstPeer(s).peer = alice.workerKey)],
    ['bad peer name', (s) => (firstPeer(s).peer = 'bob')],
    ['end before start', (s) => (s.report.end = s.report.start)],
    ['past any date', (s) => ((s.report.start = 9e15), (s.report.end = 9e15 + 1), (s.report.gaps = []))],
    ['gap outside', (s) => (firstGap(s).end = 2e12)],
    ['gap cause', (s) => (firstGap(s).cause = 'lunch')],
    ['version', (s) => (s.report.version = 2)],
    ['signature', (s) => (s.signature = '0x00')],
  ]
  for (const [name, edit] of cases) {
    const copy = structuredClone(signed) as unknown as Record<string, unknown> & {
      report: Record<string, unknown>
    }
    edit(copy)
    assert.throws(() => parseSignedUsageReport(copy), code('ERR_REPORT_MALFORMED'), name)
  }
  assert.throws(() => parseSignedUsageReport('{'), code('ERR_REPORT_MALFORMED'))
})

type Loose = Record<string, unknown> & { report: Record<string, unknown> }
function firstPeer(s: Loose): Record<string, unknown> {
  return (s.report.peers as Array<Record<string, unknown>>)[0] ?? {}
}
function firstGap(s: Loose): Record<string, unknown> {
  return (s.report.gaps as Array<Record<string, unknown>>)[0] ?? {}
}
