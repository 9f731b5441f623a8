/**
 * The status page in headless Chromium against a real API server: its static files from src/web, its data
 * from a real traffic history recorder that this test feeds, and status and peers shaped like the daemon's.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import { createApiServer } from '../../src/api/server.js'
import { SECOND, MINUTE } from '../../src/constants.js'
import { createTrafficHistory, type TrafficHistoryRecorder } from '../../src/metering/history.js'
import type { Outbound } from '../../src/proxy/outbound.js'
import { createWebPages } from '../../src/web/pages.js'
import { launchBrowser, openStatusPage, requestsOutside, waitUntil } from '../helpers/browser.js'
import { captureLogger } from '../helpers/capture-logger.js'
import { ALICE, BOB, ENDPOINT } from '../helpers/identity-vectors.js'

const TOKEN = 'status-page-token-4f9c2a71d0e8'
const SELF = `0x${ALICE}`
const B32 = ENDPOINT.slice('i2p://'.length)
const PEERS = [`0x${BOB}`, keyOf('carol'), keyOf('dave')]
const STEP = 1 * SECOND
const SCREENSHOT = '/tmp/status-page.png'

function keyOf(name: string): string {
  return `0x${createHash('sha256').update(name).digest('hex')}`
}

/**
 * Cumulative counters that grow by a different wave per peer, recorded into `history` as the daemon's
 * sampler does; `advance(at)` adds one step's worth.
 */
function trafficSource(history: TrafficHistoryRecorder) {
  const totals = PEERS.map(() => ({ bytesIn: 0, bytesOut: 0 }))
  const router = { transit: 0, sent: 0, received: 0 }
  return {
    advance(at: number) {
      const wave = (period: number) => 1.2 + Math.sin(at / period)
      totals.forEach((t, i) => {
        t.bytesIn += Math.round(900 * (3 - i) * wave((i + 2) * 97 * SECOND))
        t.bytesOut += Math.round(400 * (i + 1) * wave((i + 3) * 61 * SECOND))
      })
      router.transit += Math.round(5000 * wave(7 * MINUTE))
      router.sent = router.transit + totals.reduce((sum, t) => sum + t.bytesOut, 0) * 2
      router.received = router.transit + totals.reduce((sum, t) => sum + t.bytesIn, 0) * 2
      history.record({
        at,
        peers: new Map(PEERS.map((p, i) => [p, { ...(totals[i] as { bytesIn: number; bytesOut: number }) }])),
        transitBytes: router.transit,
        routerSent: router.sent,
        routerReceived: router.received,
      })
    },
  }
}

function daemonStatus() {
  return {
    workerKey: SELF,
    b32: B32,
    endpoint: ENDPOINT,
    uptimeMs: 42 * MINUTE,
    router: {
      mode: 'managed',
      state: 'ready',
      version: '2.58.0',
      pid: 4242,
      sam: { host: '127.0.0.1', port: 7656 },
      stats: {
        version: '2.58.0',
        uptimeMs: 42 * MINUTE,
        netStatus: 0,
        netStatusName: 'OK',
        clientTunnelsReady: true,
        knownPeers: 812,
        activePeers: 97,
        participatingTunnels: 14,
        tunnelSuccessRate: 71,
        receivedBytes: 123_456_789,
        sentBytes: 98_765_432,
        inboundBps: 18_400,
        outboundBps: 16_200,
      },
      statsError: undefined,
    },
    session: { state: 'up', since: new Date(Date.now() - 40 * MINUTE).toISOString(), generation: 1 },
    tunnels: {
      inbound: { hops: 3, quantity: 2, lengthVariance: 0, established: 2, builtHops: [3, 3] },
      outbound: { hops: 2, quantity: 2, lengthVariance: 0, established: 1, builtHops: [2] },
    },
    binding: {
      signingTime: Date.now() - 5 * MINUTE,
      ref: 'memory:1',
      lastError: undefined,
      registry: 'memory',
    },
    bootstrap: { reseed: undefined, routerInfo: undefined },
    peers: { known: PEERS.length, warm: 2, streamsOut: 3, streamsIn: 1 },
    api: 'http://127.0.0.1:0',
  }
}

function peerList() {
  return {
    peers: PEERS.map((workerKey, i) => ({
      workerKey,
      endpoints: [`i2p://${'abcdefghijklmnopqrstuvwxyz234567'.slice(i, i + 26).repeat(2)}.b32.i2p`],
      signingTime: new Date(Date.now() - 10 * MINUTE).toISOString(),
      warm:
        i < 2
          ? { workerKey, ok: true, rttMs: 850 + 120 * i, error: undefined, at: Date.now() - 20 * SECOND }
          : {
              workerKey,
              ok: false,
              rttMs: undefined,
              error: 'CANT_REACH_PEER',
              at: Date.now() - 20 * SECOND,
            },
      streamsOut: i === 0 ? 2 : i === 1 ? 1 : 0,
      traffic: {
        workerKey,
        requestsOut: 40 - 10 * i,
        requestsIn: 12 + i,
        errors: i === 2 ? 3 : 0,
        lastStatus: 200,
        lastError: i === 2 ? 'ERR_PEER_UNREACHABLE' : undefined,
        lastMs: 900,
        lastSeen: Date.now() - (i + 1) * 15 * SECOND,
      },
    })),
  }
}

/** An Outbound for a server whose relay routes this test never calls. */
const NO_OUTBOUND: Outbound = {
  forward: () => Promise.reject(new Error('not in this test')),
  tunnel: () => Promise.reject(new Error('not in this test')),
  ping: () => Promise.resolve(0),
  openStreams: () => new Map(),
  forget: () => undefined,
  close: () => undefined,
}

async function startApi(t: TestContext, history: TrafficHistoryRecorder): Promise<string> {
  const api = createApiServer(
    { host: '127.0.0.1', port: 0, token: TOKEN, maxHeaderBytes: 16_384, requestTimeout: 10 * SECOND },
    {
      logger: captureLogger(),
      outbound: NO_OUTBOUND,
      status: () => Promise.resolve(daemonStatus()),
      peers: () => Promise.resolve(peerList()),
      health: () => ({ ok: true, state: 'up' }),
      history: () => history.snapshot(),
      reports: () => Promise.resolve({ reports: [] }),
      metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
      web: createWebPages(),
    },
  )
  const url = await api.listen()
  t.after(() => api.close())
  return url
}

test('the status page in headless Chromium', async (t) => {
  const history = createTrafficHistory({ step: STEP })
  const traffic = trafficSource(history)
  const started = Date.now()
  for (let at = started - 45 * MINUTE; at <= started; at += STEP) traffic.advance(at) // the last 45 min
  const apiUrl = await startApi(t, history)
  const browser = await launchBrowser(t)

  await t.test('loads with the token from the fragment, shows the identity and state', async () => {
    const status = await openStatusPage(browser, apiUrl, TOKEN)
    await status.waitForText('worker-key', SELF)
    assert.equal(await status.text('worker-key'), SELF)
    assert.equal(await status.text('b32'), B32)
    assert.equal(await status.text('router-state'), 'ready')
    assert.equal(await status.text('router-version'), '2.58.0')
    assert.equal(await status.text('session-state'), 'up')
    assert.match(await status.text('hops-in'), /^3 hops × 2 tunnels; 2 built \(3, 3 hops\)$/)
    assert.match(await status.text('hops-out'), /^2 hops × 2 tunnels; 1 built \(2 hops\)$/)
    assert.equal(await status.text('peers-known'), '3')
    assert.equal(await status.page.getByTestId('peer-row').count(), PEERS.length)
    assert.equal(new URL(status.page.url()).hash, '', 'the token left the address bar')
    assert.equal(await status.visible('token-form'), false)

    const before = await waitUntil(
      () => status.plot('traffic-plot'),
      (p) => p.points > 0,
      {
        what: 'a first traffic plot',
      },
    )
    const transitBefore = await status.plot('transit-plot')
    assert.equal(before.points, 45 * 60)
    await status.page.screenshot({ path: SCREENSHOT, fullPage: true })

    for (let i = 1; i <= 3; i++) traffic.advance(Date.now() + i) // traffic flows
    const after = await waitUntil(
      () => status.plot('traffic-plot'),
      (p) => p.points > before.points && p.totalBytes > before.totalBytes,
      { what: 'the traffic plot to show the new traffic', timeout: 10 * SECOND },
    )
    assert.equal(after.points, before.points + 3)
    const transitAfter = await status.plot('transit-plot')
    assert.ok(transitAfter.totalBytes > transitBefore.totalBytes)

    await status.page.reload({ waitUntil: 'load' }) // no fragment now: the tab's kept token
    await status.waitForText('worker-key', SELF)
    assert.deepEqual(status.errors, [])
    assert.deepEqual(requestsOutside(status.requests, apiUrl), [])
    assert.ok(status.requests.some((u) => u.endsWith('/v1/metering/history')))
  })

  await t.test('a wrong token shows the token form and its error; the right one opens the page', async () => {
    const status = await openStatusPage(browser, apiUrl, 'not-the-token')
    await status.waitForText('token-error', '401')
    assert.equal(await status.visible('token-form'), true)
    assert.equal(await status.visible('dashboard'), false)
    assert.equal(await status.text('worker-key'), '')
    assert.equal(new URL(status.page.url()).hash, '')

    await status.page.getByLabel('Token', { exact: true }).fill(TOKEN)
    await status.page.getByRole('button', { name: 'Open' }).click()
    await status.waitForText('worker-key', SELF)
    assert.equal(await status.visible('token-form'), false)
    assert.deepEqual(requestsOutside(status.requests, apiUrl), [])
  })

  await t.test('without a token the page asks for one and calls no API', async () => {
    const status = await openStatusPage(browser, apiUrl, undefined)
    await status.page.getByTestId('token-form').waitFor({ state: 'visible', timeout: 10 * SECOND })
    assert.equal(await status.visible('token-error'), false)
    assert.deepEqual(
      status.requests.filter((u) => u.includes('/v1/')),
      [],
    )
    assert.deepEqual(status.errors, [])
  })
})
