/**
 * The metering files in a temporary data folder: checkpoint round trip, mode 0600, a file that does not parse
 * moved aside (bytes kept) with ERR_METERING_STATE, the reports listed by range and in order.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isPRouterError } from '../../../src/errors.js'
import { workerKeyFromSuri, type WorkerKeyPair } from '../../../src/identity/index.js'
import { reportFiles, type Checkpoint } from '../../../src/metering/report-files.js'
import type { UsageReport } from '../../../src/metering/report.js'
import type { RouterReading } from '../../../src/metering/router-meter.js'
import { signUsageReport } from '../../../src/registry/usage-reports.js'

const PERIOD = 600_000
const T0 = 1_764_756_000_000
const code = (c: string) => (err: unknown) => isPRouterError(err) && err.code === c

let alice: WorkerKeyPair | undefined
async function aliceKey(): Promise<WorkerKeyPair> {
  alice ??= await workerKeyFromSuri('//Alice')
  return alice
}

async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-report-files-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function report(workerKey: string, start: number, bytes = 0): UsageReport {
  return {
    version: 1,
    workerKey,
    start,
    end: start + PERIOD,
    transit: { bytes, tunnelSeconds: 60, tunnelsMax: 2 },
    router: { bytesSent: 10, bytesReceived: 20 },
    peers: [{ peer: 'anonymous', bytesIn: bytes, bytesOut: 1, requestsIn: 1, requestsOut: 0, errors: 0 }],
    restarts: { daemon: 1, router: 0 },
    gaps: [{ start, end: start + 1000, cause: 'daemon-down' }],
    createdAt: start + 5000,
  }
}

const mark: RouterReading = {
  at: T0 + 4000,
  uptimeMs: 3_600_000,
  sentBytes: 1,
  receivedBytes: 2,
  transitBytes: 3,
  participatingTunnels: 4,
  inboundBps: 5,
  outboundBps: 6,
}

/** The file names in `dir` starting with `prefix`. */
async function named(dir: string, prefix: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith(prefix))
}

test('no checkpoint yet: undefined; a saved checkpoint loads as it was saved', async (t) => {
  const dir = await dataDir(t)
  const { workerKey } = await aliceKey()
  const files = reportFiles(dir, workerKey)
  assert.equal(await files.loadCheckpoint(), undefined)
  const checkpoint: Checkpoint = {
    open: report(workerKey, T0, 77),
    routerMark: mark,
    unpublished: [T0 - PERIOD],
  }
  await files.saveCheckpoint(checkpoint)
  assert.deepEqual(await files.loadCheckpoint(), checkpoint)
  const next: Checkpoint = { open: report(workerKey, T0, 78), routerMark: undefined, unpublished: [] }
  await files.saveCheckpoint(next)
  assert.deepEqual(await reportFiles(dir, workerKey).loadCheckpoint(), next, 'a later save replaces it')
})

test('a router mark without transit bytes comes back without them', async (t) => {
  const dir = await dataDir(t)
  const { workerKey } = await aliceKey()
  const files = reportFiles(dir, workerKey)
  const attached = { ...mark, transitBytes: undefined }
  await files.saveCheckpoint({ open: report(workerKey, T0), routerMark: attached, unpublished: [] })
  const loaded = (await files.loadCheckpoint())?.routerMark
  assert.ok(loaded !== undefined, 'the mark is kept')
  assert.equal(loaded.transitBytes, undefined)
  assert.deepEqual({ ...loaded, transitBytes: undefined }, attached)
})

test('the checkpoint and the reports are written with mode 0600', async (t) => {
  const dir = await dataDir(t)
  const pair = await aliceKey()
  const files = reportFiles(dir, pair.workerKey)
  await files.saveCheckpoint({ open: report(pair.workerKey, T0), routerMark: undefined, unpublished: [] })
  const file = await files.writeReport(signUsageReport(report(pair.workerKey, T0 - PERIOD), pair))
  assert.equal(file, join(dir, 'reports', `${T0 - PERIOD}-${pair.workerKey}.json`))
  assert.equal((await stat(join(dir, 'metering', 'open-period.json'))).mode & 0o777, 0o600)
  assert.equal((await stat(file)).mode & 0o777, 0o600)
  assert.equal((await stat(join(dir, 'metering'))).mode & 0o077, 0, 'the folders are the owner`s only')
  assert.equal((await stat(files.reportsDir)).mode & 0o077, 0)
})

test('a corrupt checkpoint is moved aside, bytes kept, and the load rejects with ERR_METERING_STATE', async (t) => {
  const dir = await dataDir(t)
  const { workerKey } = await aliceKey()
  const files = reportFiles(dir, workerKey)
  const meteringDir = join(dir, 'metering')
  await mkdir(meteringDir, { recursive: true })
  const garbage = '{"open": {"version": 1, "workerKey": "0x'
  await writeFile(join(meteringDir, 'open-period.json'), garbage)
  await assert.rejects(files.loadCheckpoint(), code('ERR_METERING_STATE'))
  const aside = await named(meteringDir, 'open-period.json.corrupt-')
  assert.equal(aside.length, 1)
  assert.match(aside[0] ?? '', /^open-period\.json\.corrupt-\d+-[0-9a-f]{6}$/)
  assert.equal(
    await readFile(join(meteringDir, aside[0] ?? ''), 'utf8'),
    garbage,
    'the corrupt bytes are kept',
  )
  assert.deepEqual(
    await named(meteringDir, 'open-period.json'),
    aside,
    'the corrupt file is gone from its place',
  )
  assert.equal(await files.loadCheckpoint(), undefined, 'then the daemon starts afresh')
})

test('a checkpoint that is JSON but no report is corrupt too', async (t) => {
  const dir = await dataDir(t)
  const { workerKey } = await aliceKey()
  const files = reportFiles(dir, workerKey)
  await files.saveCheckpoint({ open: report(workerKey, T0), routerMark: undefined, unpublished: [] })
  const file = join(dir, 'metering', 'open-period.json')
  const bad = JSON.stringify({
    open: { ...report(workerKey, T0), extra: 1 },
    routerMark: null,
    unpublished: [],
  })
  await writeFile(file, bad)
  await assert.rejects(files.loadCheckpoint(), code('ERR_METERING_STATE'))
  await writeFile(file, 'null')
  await assert.rejects(files.loadCheckpoint(), code('ERR_METERING_STATE'))
  assert.equal((await named(join(dir, 'metering'), 'open-period.json.corrupt-')).length >= 1, true)
})

test('a checkpoint of another worker key is refused (and kept aside)', async (t) => {
  const dir = await dataDir(t)
  const { workerKey } = await aliceKey()
  const bob = await workerKeyFromSuri('//Bob')
  await reportFiles(dir, bob.workerKey).saveCheckpoint({
    open: report(bob.workerKey, T0, 5),
    routerMark: undefined,
    unpublished: [],
  })
  await assert.rejects(reportFiles(dir, workerKey).loadCheckpoint(), code('ERR_METERING_STATE'))
  const aside = await named(join(dir, 'metering'), 'open-period.json.corrupt-')
  assert.equal(aside.length, 1)
  const kept = JSON.parse(await readFile(join(dir, 'metering', aside[0] ?? ''), 'utf8')) as Checkpoint
  assert.equal(kept.open.workerKey, bob.workerKey)
})

test('a report read back is the one written; a missing one is undefined', async (t) => {
  const dir = await dataDir(t)
  const pair = await aliceKey()
  const files = reportFiles(dir, pair.workerKey)
  assert.equal(await files.readReport(T0), undefined)
  const signed = signUsageReport(report(pair.workerKey, T0, 1234), pair)
  await files.writeReport(signed)
  assert.deepEqual(await files.readReport(T0), signed)
})

test('a corrupt report is moved aside, bytes kept; the read rejects and the list skips it', async (t) => {
  const dir = await dataDir(t)
  const pair = await aliceKey()
  const files = reportFiles(dir, pair.workerKey)
  await files.writeReport(signUsageReport(report(pair.workerKey, T0), pair))
  const name = `${T0 + PERIOD}-${pair.workerKey}.json`
  const garbage = 'not a report'
  await writeFile(join(files.reportsDir, name), garbage)
  await assert.rejects(files.readReport(T0 + PERIOD), code('ERR_METERING_STATE'))
  const aside = await named(files.reportsDir, `${name}.corrupt-`)
  assert.equal(aside.length, 1)
  assert.equal(await readFile(join(files.reportsDir, aside[0] ?? ''), 'utf8'), garbage)
  await writeFile(join(files.reportsDir, name), '{"report": 1}')
  const listed = await files.listReports()
  assert.deepEqual(
    listed.map((r) => r.report.start),
    [T0],
  )
  assert.equal((await named(files.reportsDir, `${name}.corrupt-`)).length >= 1, true)
})

test('listReports: oldest first (by number, not by name), only periods overlapping [from, to)', async (t) => {
  const dir = await dataDir(t)
  const pair = await aliceKey()
  const files = reportFiles(dir, pair.workerKey)
  assert.deepEqual(await files.listReports(), [], 'no reports folder yet')
  // 9_999_999_600_000 sorts after 10_000_000_200_000 as text
  const starts = [10_000_000_200_000, 9_999_999_600_000, 10_000_000_800_000, 9_999_999_000_000]
  for (const start of starts) await files.writeReport(signUsageReport(report(pair.workerKey, start), pair))
  await writeFile(join(files.reportsDir, 'README.txt'), 'not a report')
  await writeFile(join(files.reportsDir, `${T0}-0xnope.json`), '{}')
  const bob = await workerKeyFromSuri('//Bob') // another worker's report in our folder is not ours to list
  const foreign = signUsageReport(report(bob.workerKey, T0), bob)
  await writeFile(join(files.reportsDir, `${T0}-${pair.workerKey}.json`), JSON.stringify(foreign))
  const all = await files.listReports()
  assert.deepEqual(
    all.map((r) => r.report.start),
    [...starts].sort((a, b) => a - b),
  )
  const in_ = (from?: number, to?: number) =>
    files.listReports({ ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) })
  const startsOf = async (from?: number, to?: number) => (await in_(from, to)).map((r) => r.report.start)
  assert.deepEqual(
    await startsOf(10_000_000_000_000),
    [9_999_999_600_000, 10_000_000_200_000, 10_000_000_800_000],
  )
  assert.deepEqual(await startsOf(undefined, 10_000_000_200_000), [9_999_999_000_000, 9_999_999_600_000])
  assert.deepEqual(await startsOf(10_000_000_200_000, 10_000_000_200_001), [10_000_000_200_000])
  assert.deepEqual(await startsOf(10_000_000_800_000 + PERIOD), [], 'a period ends before `from`: out')
})
