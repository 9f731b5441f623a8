/**
 * Daemon faults on real i2pd routers (run isolated: scripts/isolated.sh). A 4-router testnet, the registry over
 * HTTP, alice attached to a testnet router (in this process), bob and carol each with a router of their own,
 * started and stopped by the tests. The incentive data under test is their open period
 * (`metering/open-period.json`): a failed start must leave it byte for byte as it was, and a crash (kill -9)
 * may lose at most one sample.
 */
import { after, before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DAY, DEFAULT_DAEMON_STOP_TIMEOUT, KIB, MINUTE } from '../../../src/constants.js'
import { loadDaemonConfig, mergeConfigInput, type DaemonConfigInput } from '../../../src/daemon/config.js'
import { createDaemon, type Daemon } from '../../../src/daemon/daemon.js'
import { isPRouterError } from '../../../src/errors.js'
import type { UsageReport } from '../../../src/metering/report.js'
import { sleep } from '../../../src/signals.js'
import { isRouterPid } from '../../../src/router/pid.js'
import { createWorkerNet, type WorkerNet } from '../../../src/testnet/workers.js'
import { apiOf, call, spawnDaemon, type Api } from '../../helpers/daemon-client.js'
import { testBinary, testLogger } from '../../helpers/i2pd.js'

const logger = testLogger()
/** A day: no period end falls within the tests (they skip in the last minutes of a UTC day). */
const PERIOD = DAY
const SAMPLE = 1000
const metering = { period: PERIOD, sampleInterval: SAMPLE, checkpointInterval: 2000, publishReports: false }

interface PeerRow {
  peer: string
  bytesIn: number
  bytesOut: number
  requestsIn: number
}

describe('daemon faults', { timeout: 10 * MINUTE }, () => {
  let net: WorkerNet
  let dir: string
  const alice = (): Api => {
    const d = net.worker('alice').daemon
    assert.ok(d)
    return apiOf(d)
  }
  const keyOf = (name: string): string => net.worker(name).workerKey
  const inputOf = (name: string, over: DaemonConfigInput = {}): DaemonConfigInput =>
    mergeConfigInput(net.worker(name).input, over)
  const periodFile = (name = 'bob'): string =>
    join(String(inputOf(name).dataDir), 'metering', 'open-period.json')
  const newDaemon = async (t: TestContext, name: string, over: DaemonConfigInput = {}): Promise<Daemon> => {
    const d = await createDaemon(await loadDaemonConfig({ flags: inputOf(name, over) }), { logger })
    t.after(() => d.stop())
    return d
  }

  /**
   * `from` -> `to`: an echo of `bytes`, retried (a fresh path can take a while); the ms until it went through.
   * After a restart, bob calls out: a peer's router keeps bob's old LeaseSet (tunnels gone) for minutes
   * (seen: alice -> bob 504 ERR_PEER_UNREACHABLE for over 3 min), while bob's own new LeaseSet travels with
   * his call.
   */
  const tryEcho = async (
    from: Api,
    to: string,
    bytes: number,
    within: number,
  ): Promise<number | undefined> => {
    const t0 = Date.now()
    const body = randomBytes(bytes)
    for (let attempt = 1; Date.now() - t0 < within; attempt++) {
      const answer = await call(from, 'POST', `/v1/workers/${keyOf(to)}/echo`, { body, timeout: 60_000 })
        .then((a) => ({
          status: a.status,
          ok: a.body.equals(body),
          code: a.status === 200 ? '' : a.json().code,
        }))
        .catch((err: unknown) => ({ status: 0, ok: false, code: String(err) }))
      if (answer.status === 200 && answer.ok) return Date.now() - t0
      logger.info({ attempt, answer }, `echo to ${to} not through yet`)
      await sleep(2000)
    }
    return undefined
  }
  const echo = async (from: Api, to: string, bytes: number): Promise<number> => {
    const ms = await tryEcho(from, to, bytes, 3 * MINUTE)
    assert.ok(ms !== undefined, `no echo through ${to} within 3 min`)
    return ms
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-faults-'))
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [
          {
            name: 'alice',
            suri: '//Alice',
            router: { attach: 1 },
            config: { warm: { peers: 'none' }, limits: { idleTimeout: 15_000 } },
          },
          {
            name: 'bob',
            suri: '//Bob',
            router: 'managed',
            start: false,
            config: { warm: { peers: 'none' }, metering },
          },
          // a worker alice never called before the kill test: a restarted worker's old LeaseSet (tunnels gone)
          // stays in the routers of peers that called it for minutes, and slows the first calls (see below)
          {
            name: 'carol',
            suri: '//Charlie',
            router: 'managed',
            start: false,
            config: { warm: { peers: 'none' }, metering },
          },
        ],
      },
      { logger },
    )
  })

  after(async () => {
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('a failed start (API port taken, SIGINT mid-start) leaves the saved period byte for byte; a good start resumes it', async (t) => {
    if (nearPeriodEnd(t)) return
    // a first good run: traffic with alice, then a clean stop saves the period
    const first = await newDaemon(t, 'bob')
    await first.start()
    await echo(alice(), 'bob', 64 * KIB)
    await first.stop()
    const saved = await readFile(periodFile())
    const before = openOf(saved)
    const fromAlice = rowOf(before, keyOf('alice'))
    assert.ok(fromAlice && fromAlice.bytesIn > 64 * KIB, 'the first run counted alice')
    t.diagnostic(`saved: ${fromAlice.bytesIn} B from alice, restarts ${JSON.stringify(before.restarts)}`)

    // the API port is taken: the start fails (after the router came up), the period file is untouched
    const taken = await listen()
    t.after(() => closeServer(taken))
    const port = (taken.address() as { port: number }).port
    const blocked = await newDaemon(t, 'bob', { api: { port } })
    const t0 = Date.now()
    const err = await blocked.start().then(
      () => assert.fail('the start should fail: its API port is taken'),
      (e: unknown) => e,
    )
    t.diagnostic(`start with the API port taken failed in ${Date.now() - t0} ms: ${String(err)}`)
    assert.ok(isPRouterError(err, 'ERR_API_LISTEN'), String(err))
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'EADDRINUSE')
    assert.ok((await readFile(periodFile())).equals(saved), 'open-period.json byte for byte as it was')
    assert.equal(blocked.router.router?.state, 'stopped', 'the router it started is stopped again')

    // SIGINT during start (what `prouter run` passes on): aborted once the router is up
    const interrupted = await newDaemon(t, 'bob')
    const sigint = new AbortController()
    interrupted.router.router?.once('ready', () => {
      sigint.abort(new Error('SIGINT'))
    })
    await assert.rejects(interrupted.start({ signal: sigint.signal }), /SIGINT/)
    assert.ok((await readFile(periodFile())).equals(saved), 'still byte for byte after an interrupted start')

    // the next good start resumes the period: counts kept, this start counted, the down time a gap
    const good = await newDaemon(t, 'bob')
    const goodAt = Date.now()
    await good.start()
    const open = await openPeriod(apiOf(good))
    t.diagnostic(`resumed: restarts ${JSON.stringify(open.restarts)}, gaps ${JSON.stringify(open.gaps)}`)
    assert.equal(open.start, before.start)
    assert.equal(rowOf(open, keyOf('alice'))?.bytesIn, fromAlice.bytesIn, 'the bytes counted before')
    assert.equal(open.restarts.daemon, before.restarts.daemon + 1, 'one start more: the good one')
    const gap = open.gaps.find((g) => g.cause === 'daemon-down' && g.start === before.createdAt)
    assert.ok(gap && gap.end >= goodAt, 'a daemon-down gap from the last save to the good start')
    await good.stop()
  })

  test('kill -9 of a `prouter run` daemon: restarted on its data dir, same key, the period kept up to the last sample, a gap', async (t) => {
    if (nearPeriodEnd(t)) return
    const file = join(dir, 'carol.json')
    await writeFile(file, JSON.stringify(inputOf('carol')), { mode: 0o600 })
    // what earlier runs counted in this period (none on a fresh testnet): the period adds this run to it
    const earlier = await readFile(periodFile('carol')).then(
      (text) => rowOf(openOf(text), keyOf('alice')),
      () => undefined,
    )
    const { child, ready } = await spawnDaemon(file)
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    })
    const token = (await readFile(join(String(inputOf('carol').dataDir), 'api.token'), 'utf8')).trim()
    const carol: Api = { url: String(ready.api), token }
    const status = (await call(carol, 'GET', '/v1/status')).json() as { router: { pid?: number } }
    const i2pdPid = status.router.pid
    assert.ok(i2pdPid !== undefined, 'a managed router with a pid')
    t.after(async () => {
      if (await running(i2pdPid)) process.kill(i2pdPid, 'SIGKILL') // only if the assertion below failed
    })
    t.diagnostic(
      `carol (prouter run) -> alice: first echo through in ${await echo(carol, 'alice', 128 * KIB)} ms`,
    )
    const counted = await peerTraffic(carol, keyOf('alice'))
    assert.ok(counted.bytesOut > 128 * KIB && counted.bytesIn > 128 * KIB)
    await sleep(2 * SAMPLE) // one sample after the count: it is saved
    // alice's own traffic to carol (her warm-path pings) may go on meanwhile: read again just before the kill
    const last = await peerTraffic(carol, keyOf('alice'))
    const killedAt = Date.now()
    child.kill('SIGKILL')
    await once(child, 'exit')
    // its router dies with it (PR_SET_PDEATHSIG): no orphan holds the data folder's pid-file lock
    for (let i = 0; i < 100 && (await running(i2pdPid)); i++) await sleep(50)
    assert.equal(await running(i2pdPid), false, `i2pd ${i2pdPid} outlived its daemon`)

    // a request while carol is down: how it fails
    const down = await call(alice(), 'GET', `/v1/workers/${keyOf('carol')}/hello`, { timeout: 40_000 }).then(
      (a) => `${a.status} ${String(a.json().code)}`,
      (e: unknown) => `no answer: ${String(e)}`,
    )
    t.diagnostic(`alice -> carol while carol is down: ${down}`)

    const again = await newDaemon(t, 'carol')
    assert.equal(again.workerKey, String(ready.workerKey), 'same worker key')
    assert.equal(again.b32, String(ready.b32), 'same b32')
    const startAt = Date.now()
    await again.start()
    const upAt = Date.now()
    t.diagnostic(`the new daemon started in ${upAt - startAt} ms`)
    const open = await openPeriod(apiOf(again)) // before any new traffic
    t.diagnostic(
      `after kill -9: restarts ${JSON.stringify(open.restarts)}, gaps ${JSON.stringify(open.gaps)}`,
    )
    const kept = rowOf(open, keyOf('alice'))
    assert.ok(kept, 'alice is still in the period')
    const base = { bytesIn: earlier?.bytesIn ?? 0, bytesOut: earlier?.bytesOut ?? 0 }
    t.diagnostic(
      `kept in ${kept.bytesIn} out ${kept.bytesOut}; counted ${JSON.stringify(counted)}, last ${JSON.stringify(last)}`,
    )
    for (const way of ['bytesIn', 'bytesOut'] as const) {
      // every byte counted two samples before the kill is kept, and nothing beyond the counters' last reading
      assert.ok(kept[way] >= base[way] + counted[way], `${way}: ${kept[way]} kept < ${counted[way]} counted`)
      assert.ok(kept[way] <= base[way] + last[way], `${way}: ${kept[way]} kept > ${last[way]} at the kill`)
    }
    // measured, not asserted: how soon calls go through again is up to the routers' LeaseSet caches
    const recovered = await tryEcho(apiOf(again), 'alice', 4 * KIB, 2 * MINUTE)
    t.diagnostic(
      `kill -9 -> daemon ready again in ${upAt - killedAt} ms (the test's down request included), first echo through ${recovered === undefined ? 'not within 2 min' : `${recovered} ms later`}`,
    )
    const gap = open.gaps.find((g) => g.cause === 'daemon-down' && g.start <= killedAt && g.end >= killedAt)
    assert.ok(gap, 'a daemon-down gap over the kill')
    assert.ok(killedAt - gap.start <= 2 * SAMPLE + 500, `saved ${killedAt - gap.start} ms before the kill`)
    t.diagnostic(`last save ${killedAt - gap.start} ms before the kill; gap ${gap.end - gap.start} ms`)
  })

  test('stop is bounded: with its router frozen (SIGSTOP) the daemon stops within 15 s, saves the period, kills the router', async (t) => {
    if (nearPeriodEnd(t)) return
    const bob = await newDaemon(t, 'bob')
    await bob.start()
    const pid = bob.router.router?.pid
    assert.ok(pid !== undefined)
    t.after(async () => {
      if (await running(pid)) process.kill(pid, 'SIGKILL')
    })
    process.kill(pid, 'SIGSTOP') // SIGTERM stays pending; I2PControl, the console and SAM stop answering
    const stopAt = Date.now()
    await bob.stop()
    const ms = Date.now() - stopAt
    t.diagnostic(`stop with a frozen router: ${ms} ms`)
    assert.ok(ms <= DEFAULT_DAEMON_STOP_TIMEOUT + 1000, `stop took ${ms} ms`)
    for (let i = 0; i < 40 && (await running(pid)); i++) await sleep(50)
    assert.equal(await running(pid), false, 'the router was killed')
    const saved = openOf(await readFile(periodFile()))
    assert.ok(saved.createdAt >= stopAt, 'the period was saved at stop, before the router went')
  })
})

function nearPeriodEnd(t: TestContext): boolean {
  const left = PERIOD - (Date.now() % PERIOD)
  if (left > 10 * MINUTE) return false
  t.skip(`a period ends in ${Math.round(left / 1000)} s: the test would straddle it`)
  return true
}

function openOf(text: Buffer): UsageReport {
  return (JSON.parse(text.toString('utf8')) as { open: UsageReport }).open
}

function rowOf(report: UsageReport, peer: string): PeerRow | undefined {
  return report.peers.find((p) => p.peer === peer)
}

async function openPeriod(api: Api): Promise<UsageReport> {
  return (await call(api, 'GET', '/v1/reports')).json().open as UsageReport
}

async function peerTraffic(api: Api, peer: string): Promise<PeerRow> {
  const peers = (await call(api, 'GET', '/v1/peers')).json().peers as Array<{
    workerKey: string
    traffic?: PeerRow
  }>
  const row = peers.find((p) => p.workerKey === peer)?.traffic
  assert.ok(row, `${peer} in /v1/peers`)
  return row
}

/** Alive and not a zombie (a dead i2pd may wait a while for init to reap it). */
function running(pid: number): Promise<boolean> {
  return isRouterPid(pid, (args) => args.length > 0)
}

async function listen(): Promise<Server> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) =>
    server.close(() => {
      resolve()
    }),
  )
}
