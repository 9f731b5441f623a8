/**
 * The period books over real files in a temporary folder, signed with a dev key, published to a fake that
 * records (and fails when told), on a clock the test moves: deltas of cumulative counters, the period closed
 * at its end, resumed after a restart (within the period or after it ended), publishing retried.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PRouterError } from '../../../src/errors.js'
import { workerKeyFromSuri, type WorkerKeyPair } from '../../../src/identity/index.js'
import { silentLogger } from '../../../src/logger.js'
import { createAccountant, type Accountant, type Counters } from '../../../src/metering/accountant.js'
import { createPeerMeter, type PeerMeter } from '../../../src/metering/peer-meter.js'
import { reportFiles, type ReportFiles } from '../../../src/metering/report-files.js'
import type { SignedUsageReport, UsageReport } from '../../../src/metering/report.js'
import type { RouterReading, RouterTotals } from '../../../src/metering/router-meter.js'
import { signUsageReport, verifyUsageReport } from '../../../src/registry/usage-reports.js'

const PERIOD = 600_000
/** A period start (a multiple of PERIOD). */
const T0 = 1_764_756_000_000
const A = `0x${'a'.repeat(64)}`
const B = `0x${'b'.repeat(64)}`

let alice: WorkerKeyPair | undefined
async function aliceKey(): Promise<WorkerKeyPair> {
  alice ??= await workerKeyFromSuri('//Alice')
  return alice
}

/** A registry's publishReport as the accountant sees it: records each call; fails while `fail` is set. */
interface FakePublisher {
  calls: SignedUsageReport[]
  fail: Error | undefined
  publish: (report: SignedUsageReport) => Promise<void>
}

function fakePublisher(): FakePublisher {
  const fake: FakePublisher = {
    calls: [],
    fail: undefined,
    publish: (report) => {
      fake.calls.push(report)
      return fake.fail === undefined ? Promise.resolve() : Promise.reject(fake.fail)
    },
  }
  return fake
}

interface Harness {
  dir: string
  pair: WorkerKeyPair
  files: ReportFiles
  clock: { now: number }
  registry: FakePublisher
  /** A fresh accountant over the same files (a daemon start). */
  start(options?: { publish?: boolean }): Accountant
}

async function harness(t: TestContext, at: number): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-accountant-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const pair = await aliceKey()
  const files = reportFiles(dir, pair.workerKey)
  const clock = { now: at }
  const registry = fakePublisher()
  const start = (options: { publish?: boolean } = {}): Accountant =>
    createAccountant(
      { workerKey: pair.workerKey, period: PERIOD },
      {
        files,
        sign: (report) => signUsageReport(report, pair),
        publish: options.publish === false ? undefined : (report) => registry.publish(report),
        logger: silentLogger(),
        now: () => clock.now,
      },
    )
  return { dir, pair, files, clock, registry, start }
}

function counters(at: number, peers: PeerMeter, router?: RouterTotals, tunnelsNow?: number): Counters {
  return { at, peers: peers.all(), router, tunnelsNow }
}

function routerTotals(fields: Partial<RouterTotals> = {}): RouterTotals {
  return { sentBytes: 0, receivedBytes: 0, transitBytes: 0, tunnelSeconds: 0, restarts: 0, ...fields }
}

/** The report file of the period starting at `start`, verified (signature and all). */
async function reportOn(h: Harness, start: number): Promise<UsageReport> {
  const text = await readFile(join(h.dir, 'reports', `${start}-${h.pair.workerKey}.json`), 'utf8')
  return verifyUsageReport(text).report
}

async function reportNames(h: Harness): Promise<string[]> {
  return (await readdir(join(h.dir, 'reports')).catch(() => [] as string[])).sort()
}

const peerRow = (r: UsageReport, peer: string) => r.peers.find((p) => p.peer === peer)

const mark: RouterReading = {
  at: T0 + 3000,
  uptimeMs: 3_600_000,
  sentBytes: 100,
  receivedBytes: 200,
  transitBytes: 300,
  participatingTunnels: 4,
  inboundBps: 0,
  outboundBps: 0,
}

test('a first start opens the current period with a gap from its start, and saves the books', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  assert.equal(await books.open(), undefined, 'no router reading to resume from')
  const open = books.current()
  assert.deepEqual([open.start, open.end], [T0, T0 + PERIOD])
  assert.deepEqual(open.gaps, [{ start: T0, end: T0 + 1000, cause: 'daemon-down' }])
  assert.deepEqual(open.restarts, { daemon: 1, router: 0 })
  assert.deepEqual(open.peers, [])
  assert.equal(open.transit, null)
  assert.equal(open.router, null)
  const saved = await h.files.loadCheckpoint()
  assert.deepEqual(saved?.open.restarts, { daemon: 1, router: 0 })
  assert.equal(h.registry.calls.length, 0)
})

test('ticks add what the cumulative counters grew by', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  await books.open()
  const peers = createPeerMeter()
  peers.addBytes(A, 100, 10)
  peers.record(A, { out: true, status: 200, ms: 30 })
  await books.tick(counters(T0 + 2000, peers))
  peers.addBytes(A, 50, 5)
  peers.addBytes(B, 1, 2)
  peers.record(A, { out: false, status: 502, ms: 30, error: 'ERR_SERVICE_UNREACHABLE' })
  await books.tick(counters(T0 + 3000, peers))
  await books.tick(counters(T0 + 4000, peers)) // nothing new
  assert.deepEqual(books.current().peers, [
    { peer: A, bytesIn: 150, bytesOut: 15, requestsIn: 1, requestsOut: 1, errors: 1 },
    { peer: B, bytesIn: 1, bytesOut: 2, requestsIn: 0, requestsOut: 0, errors: 0 },
  ])
})

test('a tick at the period end closes it: a verified report of exactly its bytes; the next starts from zero', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  await books.open()
  const peers = createPeerMeter()
  peers.addBytes(A, 100, 10)
  await books.tick(counters(T0 + 2000, peers))
  peers.addBytes(A, 20, 2)
  h.clock.now = T0 + PERIOD
  await books.tick(counters(T0 + PERIOD, peers))
  assert.deepEqual(await reportNames(h), [`${T0}-${h.pair.workerKey}.json`])
  const report = await reportOn(h, T0)
  assert.deepEqual([report.start, report.end, report.createdAt], [T0, T0 + PERIOD, T0 + PERIOD])
  assert.equal(report.workerKey, h.pair.workerKey)
  assert.deepEqual(report.peers, [
    { peer: A, bytesIn: 120, bytesOut: 12, requestsIn: 0, requestsOut: 0, errors: 0 },
  ])
  assert.deepEqual(report.gaps, [{ start: T0, end: T0 + 1000, cause: 'daemon-down' }])
  assert.deepEqual(report.restarts, { daemon: 1, router: 0 })
  // the next period: from zero, against the same cumulative baselines
  const next = books.current()
  assert.deepEqual([next.start, next.end], [T0 + PERIOD, T0 + 2 * PERIOD])
  assert.deepEqual(next.peers, [])
  assert.deepEqual(next.gaps, [])
  assert.deepEqual(next.restarts, { daemon: 0, router: 0 })
  peers.addBytes(A, 7, 0)
  await books.tick(counters(T0 + PERIOD + 10_000, peers))
  assert.deepEqual(
    books.current().peers.map((p) => [p.peer, p.bytesIn, p.bytesOut]),
    [[A, 7, 0]],
  )
  assert.equal(h.registry.calls.length, 1, 'published at the close')
  assert.deepEqual(h.registry.calls[0]?.report, report)
  assert.equal(books.published, 1)
  assert.deepEqual(books.unpublished, [])
})

test('a tick before the period end does not close it, a late one after it does', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  await books.open()
  await books.tick(counters(T0 + PERIOD - 1, createPeerMeter()))
  assert.equal(books.current().start, T0)
  assert.deepEqual(await reportNames(h), [])
  h.clock.now = T0 + PERIOD + 5000 // a late sample closes it too
  await books.tick(counters(T0 + PERIOD + 5000, createPeerMeter()))
  assert.equal((await reportOn(h, T0)).createdAt, T0 + PERIOD + 5000)
  assert.equal(books.current().start, T0 + PERIOD)
})

test('restart within a period: the counts resume, a daemon-down gap from the last save, restarts.daemon 2', async (t) => {
  const h = await harness(t, T0 + 1000)
  const first = h.start()
  await first.open()
  const peers1 = createPeerMeter()
  peers1.addBytes(A, 100, 10)
  await first.tick(counters(T0 + 2000, peers1, routerTotals({ sentBytes: 40 })))
  h.clock.now = T0 + 3000
  await first.checkpoint(mark)
  // the daemon stops; it starts again a minute later, with fresh (zero) counters
  h.clock.now = T0 + 63_000
  const second = h.start()
  assert.deepEqual(await second.open(), mark, 'the router reading to resume from')
  const open = second.current()
  assert.equal(open.start, T0)
  assert.deepEqual(open.restarts, { daemon: 2, router: 0 })
  assert.deepEqual(open.gaps, [
    { start: T0, end: T0 + 1000, cause: 'daemon-down' },
    { start: T0 + 3000, end: T0 + 63_000, cause: 'daemon-down' },
  ])
  assert.deepEqual(
    open.peers.map((p) => [p.peer, p.bytesIn, p.bytesOut]),
    [[A, 100, 10]],
  )
  assert.deepEqual(open.router, { bytesSent: 40, bytesReceived: 0 })
  const peers2 = createPeerMeter()
  peers2.addBytes(A, 30, 3)
  await second.tick(counters(T0 + 64_000, peers2, routerTotals({ sentBytes: 5 })))
  const after = second.current()
  assert.deepEqual(
    after.peers.map((p) => [p.peer, p.bytesIn, p.bytesOut]),
    [[A, 130, 13]],
  )
  assert.deepEqual(after.router, { bytesSent: 45, bytesReceived: 0 })
  h.clock.now = T0 + PERIOD
  await second.tick(counters(T0 + PERIOD, peers2))
  const report = await reportOn(h, T0)
  assert.equal(peerRow(report, A)?.bytesIn, 130)
  assert.equal(report.restarts.daemon, 2)
  assert.equal(report.gaps.length, 2)
})

test('restart after the period ended: its report is written at open with a gap to its end', async (t) => {
  const h = await harness(t, T0 + 1000)
  const first = h.start()
  await first.open()
  const peers = createPeerMeter()
  peers.addBytes(A, 100, 10)
  await first.tick(counters(T0 + 2000, peers))
  h.clock.now = T0 + 3000
  await first.checkpoint(undefined)
  h.clock.now = T0 + PERIOD + 20_000
  const second = h.start()
  await second.open()
  const report = await reportOn(h, T0)
  assert.deepEqual(report.gaps, [
    { start: T0, end: T0 + 1000, cause: 'daemon-down' },
    { start: T0 + 3000, end: T0 + PERIOD, cause: 'daemon-down' },
  ])
  assert.deepEqual(
    report.peers.map((p) => [p.peer, p.bytesIn, p.bytesOut]),
    [[A, 100, 10]],
  )
  assert.equal(report.restarts.daemon, 1)
  assert.equal(report.createdAt, T0 + PERIOD + 20_000)
  const open = second.current()
  assert.deepEqual([open.start, open.end], [T0 + PERIOD, T0 + 2 * PERIOD])
  assert.deepEqual(open.gaps, [{ start: T0 + PERIOD, end: T0 + PERIOD + 20_000, cause: 'daemon-down' }])
  assert.deepEqual(open.restarts, { daemon: 1, router: 0 })
  assert.deepEqual(open.peers, [])
  // not published at open (publishing waits for the first sample): at the next checkpoint
  assert.equal(h.registry.calls.length, 0)
  assert.deepEqual(second.unpublished, [T0])
  assert.deepEqual((await h.files.loadCheckpoint())?.unpublished, [T0], 'the pending report is saved')
  await second.checkpoint(undefined)
  assert.equal(h.registry.calls.length, 1)
  assert.deepEqual(h.registry.calls[0]?.report, report)
  assert.deepEqual(second.unpublished, [])
})

test('an unreadable checkpoint: set aside, the period shows a gap from its start', async (t) => {
  const h = await harness(t, T0 + 5000)
  await mkdir(join(h.dir, 'metering'), { recursive: true })
  await writeFile(join(h.dir, 'metering', 'open-period.json'), '{"open":')
  const books = h.start()
  assert.equal(await books.open(), undefined)
  assert.deepEqual(books.current().gaps, [{ start: T0, end: T0 + 5000, cause: 'daemon-down' }])
  const names = await readdir(join(h.dir, 'metering'))
  assert.ok(
    names.some((n) => n.startsWith('open-period.json.corrupt-')),
    names.join(', '),
  )
  assert.equal((await h.files.loadCheckpoint())?.open.start, T0, 'a fresh checkpoint replaces it')
})

test('a report the registry did not take is retried at the next checkpoint, and published once', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  await books.open()
  const peers = createPeerMeter()
  peers.addBytes(A, 1, 1)
  h.registry.fail = new PRouterError('ERR_REGISTRY_UNREACHABLE', 'registry down')
  h.clock.now = T0 + PERIOD
  await books.tick(counters(T0 + PERIOD, peers))
  assert.equal(h.registry.calls.length, 1)
  assert.deepEqual(books.unpublished, [T0])
  assert.equal(books.published, 0)
  await books.checkpoint(undefined)
  assert.equal(h.registry.calls.length, 2, 'retried')
  assert.deepEqual(books.unpublished, [T0])
  h.registry.fail = undefined
  await books.checkpoint(undefined)
  assert.equal(h.registry.calls.length, 3)
  assert.deepEqual(books.unpublished, [])
  assert.equal(books.published, 1)
  await books.checkpoint(undefined)
  await books.checkpoint(undefined)
  assert.equal(h.registry.calls.length, 3, 'never again once taken')
  assert.deepEqual(await reportOn(h, T0), h.registry.calls[2]?.report)
})

test('unpublished reports survive a restart and are published oldest first', async (t) => {
  const h = await harness(t, T0 + 1000)
  const first = h.start()
  await first.open()
  const peers = createPeerMeter()
  h.registry.fail = new Error('socket hang up')
  h.clock.now = T0 + PERIOD
  await first.tick(counters(T0 + PERIOD, peers))
  h.clock.now = T0 + 2 * PERIOD
  await first.tick(counters(T0 + 2 * PERIOD, peers))
  await first.checkpoint(undefined, { publish: false })
  assert.deepEqual([...first.unpublished].sort(), [T0, T0 + PERIOD])
  h.registry.fail = undefined
  h.registry.calls.length = 0
  h.clock.now = T0 + 2 * PERIOD + 1000
  const second = h.start()
  await second.open()
  assert.deepEqual([...second.unpublished].sort(), [T0, T0 + PERIOD])
  await second.checkpoint(undefined)
  assert.deepEqual(
    h.registry.calls.map((c) => c.report.start),
    [T0, T0 + PERIOD],
  )
  assert.deepEqual(second.unpublished, [])
  assert.equal(second.published, 2)
})

test('ERR_REGISTRY_UNSUPPORTED stops the retries: reports stay in the folder, none counted unpublished', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  await books.open()
  const peers = createPeerMeter()
  h.registry.fail = new PRouterError('ERR_REGISTRY_UNSUPPORTED', 'the EVM registry stores bindings only')
  h.clock.now = T0 + PERIOD
  await books.tick(counters(T0 + PERIOD, peers))
  assert.equal(h.registry.calls.length, 1)
  assert.deepEqual(books.unpublished, [])
  await books.checkpoint(undefined)
  h.clock.now = T0 + 2 * PERIOD
  await books.tick(counters(T0 + 2 * PERIOD, peers))
  await books.checkpoint(undefined)
  assert.equal(h.registry.calls.length, 1, 'never asked again')
  assert.deepEqual(books.unpublished, [], 'a report closed later is not pending either')
  assert.deepEqual((await h.files.loadCheckpoint())?.unpublished, [])
  assert.equal((await reportNames(h)).length, 2, 'both reports are in the folder')
})

test('a report the registry refuses for good (expired, conflict) is dropped and does not block later ones', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  await books.open()
  const peers = createPeerMeter()
  h.registry.fail = new Error('registry down')
  h.clock.now = T0 + PERIOD
  await books.tick(counters(T0 + PERIOD, peers))
  h.clock.now = T0 + 2 * PERIOD
  await books.tick(counters(T0 + 2 * PERIOD, peers))
  h.clock.now = T0 + 3 * PERIOD
  await books.tick(counters(T0 + 3 * PERIOD, peers))
  const refusals = new Map<number, PRouterError>([
    [T0, new PRouterError('ERR_REPORT_EXPIRED', 'too old')],
    [T0 + PERIOD, new PRouterError('ERR_REPORT_CONFLICT', 'another report')],
  ])
  h.registry.calls.length = 0
  h.registry.fail = undefined
  const publish = h.registry.publish
  h.registry.publish = (report) => {
    const refusal = refusals.get(report.report.start)
    return refusal === undefined ? publish(report) : Promise.reject(refusal)
  }
  await books.checkpoint(undefined)
  assert.deepEqual(
    h.registry.calls.map((c) => c.report.start),
    [T0 + 2 * PERIOD],
  )
  assert.deepEqual(books.unpublished, [])
  assert.equal(books.published, 1)
})

test('publish undefined: reports are written, never pending', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start({ publish: false })
  await books.open()
  h.clock.now = T0 + PERIOD
  await books.tick(counters(T0 + PERIOD, createPeerMeter()))
  await books.checkpoint(undefined)
  assert.equal((await reportOn(h, T0)).start, T0)
  assert.deepEqual(books.unpublished, [])
  assert.equal(books.published, 0)
  assert.equal(h.registry.calls.length, 0)
})

test('router totals go into the report: bytes, transit, tunnel-seconds, tunnelsMax, restarts', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  await books.open()
  const peers = createPeerMeter()
  await books.tick(counters(T0 + 2000, peers, routerTotals(), 10))
  assert.deepEqual(books.current().transit, { bytes: 0, tunnelSeconds: 0, tunnelsMax: 10 })
  await books.tick(
    counters(
      T0 + 32_000,
      peers,
      routerTotals({ sentBytes: 1000, receivedBytes: 2000, transitBytes: 5000, tunnelSeconds: 300 }),
      4,
    ),
  )
  const gap = { start: T0 + 40_000, end: T0 + 45_000, cause: 'router-restart' as const }
  books.gap(gap)
  await books.tick(
    counters(
      T0 + 50_000,
      peers,
      routerTotals({
        sentBytes: 1500,
        receivedBytes: 2100,
        transitBytes: 5200,
        tunnelSeconds: 310.4,
        restarts: 1,
      }),
      12,
    ),
  )
  h.clock.now = T0 + PERIOD
  const atEnd = routerTotals({
    sentBytes: 1600,
    receivedBytes: 2100,
    transitBytes: 5300,
    tunnelSeconds: 400.6,
    restarts: 1,
  })
  await books.tick(counters(T0 + PERIOD, peers, atEnd, 3))
  const report = await reportOn(h, T0)
  assert.deepEqual(report.router, { bytesSent: 1600, bytesReceived: 2100 })
  assert.deepEqual(report.transit, { bytes: 5300, tunnelSeconds: 401, tunnelsMax: 12 })
  assert.equal(report.restarts.router, 1)
  assert.deepEqual(report.gaps, [{ start: T0, end: T0 + 1000, cause: 'daemon-down' }, gap])
  // the next period counts from the totals at the close
  const next = routerTotals({
    sentBytes: 1650,
    receivedBytes: 2100,
    transitBytes: 5350,
    tunnelSeconds: 420.6,
    restarts: 1,
  })
  await books.tick(counters(T0 + PERIOD + 20_000, peers, next, 2))
  const open = books.current()
  assert.deepEqual(open.router, { bytesSent: 50, bytesReceived: 0 })
  assert.deepEqual(open.transit, { bytes: 50, tunnelSeconds: 20, tunnelsMax: 2 })
  assert.equal(open.restarts.router, 0)
})

test('without transit bytes (an attached router) the report has router totals and transit null', async (t) => {
  const h = await harness(t, T0 + 1000)
  const books = h.start()
  await books.open()
  const peers = createPeerMeter()
  await books.tick(counters(T0 + 2000, peers, routerTotals({ transitBytes: undefined }), 5))
  await books.tick(
    counters(T0 + 3000, peers, routerTotals({ transitBytes: undefined, sentBytes: 9, tunnelSeconds: 5 }), 5),
  )
  h.clock.now = T0 + PERIOD
  await books.tick(counters(T0 + PERIOD, peers, routerTotals({ transitBytes: undefined, sentBytes: 9 }), 5))
  const report = await reportOn(h, T0)
  assert.equal(report.transit, null)
  assert.deepEqual(report.router, { bytesSent: 9, bytesReceived: 0 })
})

test('books that were never loaded are never written: tick and checkpoint refuse, the saved period stays', async (t) => {
  const h = await harness(t, T0 + 1000)
  const first = h.start()
  await first.open()
  const peers = createPeerMeter()
  peers.addBytes(A, 100, 10)
  await first.tick(counters(T0 + 2000, peers))
  await first.checkpoint(mark)
  const file = join(h.dir, 'metering', 'open-period.json')
  const before = await readFile(file)
  // a daemon whose start failed before its books were opened: what its stop would do
  const unopened = h.start()
  h.clock.now = T0 + 9000
  await assert.rejects(unopened.tick(counters(T0 + 9000, createPeerMeter())), /not loaded/)
  await assert.rejects(unopened.checkpoint(undefined), /not loaded/)
  assert.ok((await readFile(file)).equals(before), 'open-period.json byte for byte as it was')
})

test('a checkpoint that cannot be read (not a parse error) fails open, and nothing is written over it', async (t) => {
  const h = await harness(t, T0 + 1000)
  const file = join(h.dir, 'metering', 'open-period.json')
  await mkdir(file, { recursive: true }) // reading it fails with EISDIR, as a disk error would: no parse error
  await writeFile(join(file, 'kept'), 'x')
  const books = h.start()
  await assert.rejects(books.open(), (err: unknown) => (err as NodeJS.ErrnoException).code === 'EISDIR')
  await assert.rejects(books.checkpoint(undefined), /not loaded/)
  assert.deepEqual(await readdir(file), ['kept'], 'left as it was')
})
