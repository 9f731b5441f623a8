/**
 * Metering on real i2pd routers (run isolated: scripts/isolated.sh). Alice and bob supervise their own routers
 * on a private testnet; warm paths are off so nothing but the test moves bytes between them. What is checked:
 * the bytes each side counts at the stream boundary against the bytes of a transfer of known size (and the two
 * sides against each other), the router-wide counters against the payload (I2P's overhead), /metrics, and the
 * signed report each period ends with — published to the registry, verified, and cross-checked.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_OUTBOUND_MIN_STREAMS_PER_PEER, MIB } from '../../src/constants.js'
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js'
import { loadDaemonConfig } from '../../src/daemon/config.js'
import { crossCheck } from '../../src/metering/cross-check.js'
import type { UsageReport } from '../../src/metering/report.js'
import { createHttpBackend } from '../../src/registry/index.js'
import { verifyUsageReport } from '../../src/registry/usage-reports.js'
import { sleep } from '../../src/signals.js'
import { createWorkerNet, type WorkerNet } from '../../src/testnet/workers.js'
import { apiOf, call, type Api } from '../helpers/daemon-client.js'
import { launchBrowser, openStatusPage, requestsOutside, waitUntil } from '../helpers/browser.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'

const logger = testLogger()
const PERIOD = 20_000
const metering = { period: PERIOD, sampleInterval: 1000, checkpointInterval: 2000 }

interface PeerTraffic {
  bytesIn: number
  bytesOut: number
  requestsIn: number
  requestsOut: number
}

describe('metering on a private network', { timeout: 10 * 60_000 }, () => {
  let net: WorkerNet
  let dir: string
  const daemon = (name: string): Daemon => {
    const d = net.worker(name).daemon
    assert.ok(d)
    return d
  }
  const api = (name: string): Api => apiOf(daemon(name))
  const key = (name: string): string => net.worker(name).workerKey

  /** What `name` counted with `peer` so far (GET /v1/peers flushes the open streams first). */
  const traffic = async (name: string, peer: string): Promise<PeerTraffic> => {
    const answer = await call(api(name), 'GET', '/v1/peers')
    const peers = answer.json().peers as Array<{ workerKey: string; traffic?: PeerTraffic }>
    const t = peers.find((p) => p.workerKey === key(peer))?.traffic
    return t ?? { bytesIn: 0, bytesOut: 0, requestsIn: 0, requestsOut: 0 }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-metering-'))
    const config = { metering, warm: { peers: 'none' as const } }
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [
          { name: 'alice', suri: '//Alice', router: 'managed', config },
          { name: 'bob', suri: '//Bob', router: 'managed', config },
        ],
      },
      { logger },
    )
    // the first request builds the path; its bytes are not part of the measured transfers
    const hello = await call(api('alice'), 'GET', `/v1/workers/${key('bob')}/hello`, { timeout: 120_000 })
    assert.equal(hello.status, 200)
    // and alice's pool reaches its size (outbound.minStreamsPerPeer) with bob: a stream opened in the background
    // during a measurement would put its handshake on one side's count before the other side's (the callee
    // counts a stream's first bytes once its caller is identified)
    await quiet()
  })

  /** Until alice's streams to bob are the pool's minimum and neither side's count of the other moves for 1 s. */
  const quiet = async (): Promise<void> => {
    const deadline = Date.now() + 30_000
    let last = ''
    for (;;) {
      const streams = (await call(api('alice'), 'GET', '/v1/status')).json().peers as { streamsOut: number }
      const now = JSON.stringify([await traffic('alice', 'bob'), await traffic('bob', 'alice')])
      if (streams.streamsOut >= DEFAULT_OUTBOUND_MIN_STREAMS_PER_PEER && now === last) return
      assert.ok(Date.now() < deadline, `alice's pool to bob did not settle: ${streams.streamsOut} streams`)
      last = now
      await sleep(1000)
    }
  }

  after(async () => {
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('an upload of 1 MiB: both sides count the same bytes, the payload and its HTTP head', async (t) => {
    const body = randomBytes(MIB)
    const a0 = await traffic('alice', 'bob')
    const b0 = await traffic('bob', 'alice')
    const answer = await call(api('alice'), 'POST', `/v1/workers/${key('bob')}/echo`, {
      body,
      headers: { 'content-type': 'application/octet-stream' },
    })
    assert.equal(answer.status, 200)
    assert.ok(answer.body.equals(body), 'the echo is the body')
    const a1 = await traffic('alice', 'bob')
    const b1 = await traffic('bob', 'alice')
    const sent = a1.bytesOut - a0.bytesOut
    const received = b1.bytesIn - b0.bytesIn
    const back = a1.bytesIn - a0.bytesIn
    const echoed = b1.bytesOut - b0.bytesOut
    t.diagnostic(`alice sent ${sent} B (1 MiB + ${sent - MIB} B head), bob read ${received} B`)
    t.diagnostic(
      `bob wrote ${echoed} B (1 MiB + ${echoed - MIB} B head and chunk framing), alice read ${back} B`,
    )
    assert.equal(received, sent, 'what bob read from alice is what alice wrote to bob, to the byte')
    assert.equal(back, echoed, 'what alice read from bob is what bob wrote to alice, to the byte')
    assert.ok(sent > MIB && sent - MIB < 1024, `request overhead ${sent - MIB} B: the HTTP head only`)
    assert.ok(echoed > MIB && echoed - MIB < 4096, `response overhead ${echoed - MIB} B`)
    assert.equal(a1.requestsOut - a0.requestsOut, 1)
    assert.equal(b1.requestsIn - b0.requestsIn, 1)
  })

  test('a download of 1 MiB with a length: the payload and the response head, nothing else', async (t) => {
    const a0 = await traffic('alice', 'bob')
    const b0 = await traffic('bob', 'alice')
    const answer = await call(api('alice'), 'GET', `/v1/workers/${key('bob')}/bytes?n=${MIB}`)
    assert.equal(answer.status, 200)
    assert.equal(answer.body.length, MIB)
    const a1 = await traffic('alice', 'bob')
    const b1 = await traffic('bob', 'alice')
    const read = a1.bytesIn - a0.bytesIn
    t.diagnostic(`alice read ${read} B for a 1 MiB body: ${read - MIB} B of response head`)
    assert.equal(read, b1.bytesOut - b0.bytesOut)
    assert.ok(read > MIB && read - MIB < 1024, `response head ${read - MIB} B`)
    assert.equal(a1.bytesOut - a0.bytesOut, b1.bytesIn - b0.bytesIn)
  })

  test("the router's own counters: what I2P costs on top of the payload; transit and tunnels exposed", async (t) => {
    const before = await routerCounters(api('alice'))
    const body = randomBytes(4 * MIB)
    const answer = await call(api('alice'), 'POST', `/v1/workers/${key('bob')}/echo`, { body })
    assert.equal(answer.status, 200)
    await sleep(2500) // two samples: the router's totals are read every second
    const after = await routerCounters(api('alice'))
    const sent = after.sent - before.sent
    const received = after.received - before.received
    assert.ok(before.transit !== undefined && after.transit !== undefined, 'transit bytes are exposed')
    assert.ok(after.tunnels !== undefined, 'participating tunnels are exposed')
    // the router's totals hold what it forwarded for others meanwhile (with 1-hop tunnels, bob's tunnels may
    // run through alice's router); its own traffic is what it sent less that transit
    const transit = after.transit - before.transit
    const own = sent - transit
    t.diagnostic(`alice's router sent ${sent} B (${transit} B of it transit) and received ${received} B`)
    t.diagnostic(
      `I2P overhead for 4 MiB each way: own sent ${(own / body.length).toFixed(3)}x, received ${(received / body.length).toFixed(3)}x (transit included)`,
    )
    assert.ok(own >= body.length, 'the router sent at least the payload of its own')
    assert.ok(received >= body.length, 'the router received at least the payload')
    assert.ok(own < 3 * body.length, 'and not wildly more (1-hop tunnels)')
    t.diagnostic(`alice's router: transit ${after.transit} B so far, ${after.tunnels} participating tunnels`)
  })

  test('/metrics: the per-peer counters as Prometheus counters, with the latency histogram', async () => {
    const metrics = await call(api('alice'), 'GET', '/metrics')
    assert.equal(metrics.status, 200)
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/)
    const text = metrics.body.toString('utf8')
    const peers = await traffic('alice', 'bob') // after the scrape: no traffic in between
    assert.equal(metric(text, 'prouter_peer_sent_bytes_total', { peer: key('bob') }), peers.bytesOut)
    assert.equal(metric(text, 'prouter_peer_received_bytes_total', { peer: key('bob') }), peers.bytesIn)
    const count = metric(text, 'prouter_peer_request_duration_seconds_count', {
      peer: key('bob'),
      direction: 'out',
    })
    assert.equal(count, peers.requestsOut)
    assert.equal(metric(text, 'prouter_session_up', {}), 1)
    assert.equal(await call(api('alice'), 'GET', '/metrics', { token: null }).then((a) => a.status), 401)
  })

  test('the status page in headless Chromium: the worker key, and the traffic plot grows as bytes flow', async (t) => {
    const browser = await launchBrowser(t)
    const page = await openStatusPage(browser, api('alice').url, api('alice').token)
    await page.waitForText('worker-key', key('alice'))
    const before = await waitUntil(
      () => page.plot('traffic-plot'),
      (p) => p.points > 0,
      { what: 'a first plot' },
    )
    const body = randomBytes(MIB)
    const answer = await call(api('alice'), 'POST', `/v1/workers/${key('bob')}/echo`, { body })
    assert.equal(answer.status, 200)
    const grown = await waitUntil(
      () => page.plot('traffic-plot'),
      (p) => p.totalBytes >= before.totalBytes + 2 * MIB,
      { what: 'the plot to show 1 MiB each way', timeout: 20_000 },
    )
    t.diagnostic(
      `plot: ${before.points} points, ${before.totalBytes} B -> ${grown.points} points, ${grown.totalBytes} B`,
    )
    assert.ok(grown.points > before.points, 'new points were plotted')
    await page.page.screenshot({ path: join(tmpdir(), 'prouter-status-page.png'), fullPage: true })
    assert.deepEqual(
      requestsOutside(page.requests, new URL(api('alice').url).origin),
      [],
      'nothing left loopback',
    )
    assert.deepEqual(page.errors, [])
  })

  test('each period ends in a signed report, published to the registry; the two sides agree', async (t) => {
    // traffic early in a period, so no transfer straddles its end
    await untilPeriodStart()
    const body = randomBytes(2 * MIB)
    const sentAt = Date.now()
    const answer = await call(api('alice'), 'POST', `/v1/workers/${key('bob')}/echo`, { body })
    assert.equal(answer.status, 200)
    const period = Math.floor(Date.now() / PERIOD) * PERIOD
    const span = `sent ${sentAt - period} ms into the period, answered ${Date.now() - period} ms in`
    await sleep(period + PERIOD - Date.now() + 3000) // the end, a sample and a publication
    const registry = createHttpBackend({ url: net.registryUrl })
    t.after(() => registry.close())
    const published = (await registry.reports.list({ from: period, to: period + PERIOD })).map(
      (r) => verifyUsageReport(r).report,
    )
    const of = (name: string): UsageReport | undefined =>
      published.find((r) => r.workerKey === key(name) && r.start === period)
    const alice = of('alice')
    const bob = of('bob')
    assert.ok(alice && bob, `both reports of the period are in the registry (${published.length} found)`)
    const toBob = alice.peers.find((p) => p.peer === key('bob'))
    const fromAlice = bob.peers.find((p) => p.peer === key('alice'))
    assert.ok(toBob && fromAlice)
    t.diagnostic(`alice's report: ${JSON.stringify(toBob)}; bob's: ${JSON.stringify(fromAlice)}; ${span}`)
    assert.ok(toBob.bytesOut > body.length && toBob.bytesIn > body.length)
    assert.equal(toBob.bytesOut, fromAlice.bytesIn, 'sent equals received, to the byte')
    assert.equal(toBob.bytesIn, fromAlice.bytesOut)
    assert.deepEqual(crossCheck([alice, bob]).findings, [])
    assert.ok(alice.transit !== null && alice.router !== null, 'router figures are in the report')
    const local = (await call(api('alice'), 'GET', `/v1/reports?from=${period}&to=${period + PERIOD}`)).json()
    const files = local.reports as unknown[]
    assert.equal(files.length, 1)
    assert.deepEqual(verifyUsageReport(files[0]).report, alice, 'the file is what the registry holds')
  })

  test('a daemon restart shows in the report: the counts so far kept, a daemon-down gap, the start counted', async (t) => {
    await untilPeriodStart()
    const period = Math.floor(Date.now() / PERIOD) * PERIOD
    const body = randomBytes(256 * 1024)
    const answer = await call(api('alice'), 'POST', `/v1/workers/${key('bob')}/echo`, { body })
    assert.equal(answer.status, 200)
    const stoppedAt = Date.now()
    await daemon('bob').stop() // its router too: a managed router stops with its daemon
    const again = await createDaemon(await loadDaemonConfig({ flags: net.worker('bob').input }), { logger })
    t.after(() => again.stop())
    await again.start()
    const startedAt = Date.now()
    t.diagnostic(
      `bob stopped ${stoppedAt - period} ms into the period, was back after ${startedAt - stoppedAt} ms`,
    )
    await sleep(Math.max(0, period + PERIOD - Date.now()) + 3000)
    const registry = createHttpBackend({ url: net.registryUrl })
    t.after(() => registry.close())
    const reports = await registry.reports.list({ from: period, to: period + PERIOD, workerKey: key('bob') })
    const report = reports.map((r) => verifyUsageReport(r).report).find((r) => r.start === period)
    assert.ok(report, "bob's report of the period is in the registry")
    t.diagnostic(
      `bob's report: restarts ${JSON.stringify(report.restarts)}, gaps ${JSON.stringify(report.gaps)}`,
    )
    const fromAlice = report.peers.find((p) => p.peer === key('alice'))
    assert.ok(fromAlice && fromAlice.bytesIn > body.length, 'the bytes counted before the restart are in it')
    const down = report.gaps.filter((g) => g.cause === 'daemon-down' && g.end >= stoppedAt)
    assert.equal(down.length, 1, 'one daemon-down gap for the restart')
    const gap = down[0] as { start: number; end: number }
    assert.ok(gap.start >= stoppedAt && gap.start < gap.end, 'from the save at stop')
    assert.ok(gap.end <= Math.min(startedAt, period + PERIOD), 'to the new start (or the period end)')
    if (startedAt < period + PERIOD) {
      assert.ok(report.restarts.daemon >= 1, 'the start within the period is counted')
      assert.ok(report.restarts.router >= 1, 'and its managed router, which stopped with it, too')
    }
  })
})

async function routerCounters(api: Api) {
  const text = (await call(api, 'GET', '/metrics')).body.toString('utf8')
  return {
    sent: metric(text, 'prouter_router_sent_bytes_total', {}) ?? 0,
    received: metric(text, 'prouter_router_received_bytes_total', {}) ?? 0,
    transit: metric(text, 'prouter_router_transit_bytes_total', {}),
    tunnels: metric(text, 'prouter_router_participating_tunnels', {}),
  }
}

/** The value of `name` with exactly `labels` in a Prometheus text exposition. */
function metric(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',')
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null || m[1] !== name) continue
    const got = (m[2] ?? '').split(',').filter(Boolean).sort().join(',')
    if (got === want) return Number(m[3])
  }
  return undefined
}

/** Wait until the current period is young (at most 3 s old). */
async function untilPeriodStart(): Promise<void> {
  const into = Date.now() % PERIOD
  if (into > 3000) await sleep(PERIOD - into + 200)
}
