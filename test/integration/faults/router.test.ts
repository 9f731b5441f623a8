/**
 * Router faults, injected for real on a private network (run isolated: scripts/isolated.sh): kill -9 of a
 * daemon's managed i2pd, a router whose binary then fails its first restarts, SIGSTOP of the router, and
 * kill -9 of a `prouter run` process. Each test measures the time to recover and the codes of the requests
 * that failed meanwhile, and prints them (`# fault …` lines: the figures in docs/reliability.md).
 *
 * The network: a 4-router testnet, the local registry over HTTP, alice (managed router, its i2pd behind a
 * wrapper that can be told to fail its next runs), charlie (attached to a testnet router: the peer alice
 * calls) and dave (managed router, prepared here and run as a `prouter run` process).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { createWorkerNet, type WorkerNet } from '../../../src/testnet/workers.js'
import type { Daemon } from '../../../src/daemon/daemon.js'
import type { Router } from '../../../src/router/router.js'
import type { PRouterError } from '../../../src/errors.js'
import { isRouterPid, readPidFile } from '../../../src/router/pid.js'
import { sleep } from '../../../src/signals.js'
import { testBinary, testLogger } from '../../helpers/i2pd.js'
import { apiOf, call, spawnDaemon } from '../../helpers/daemon-client.js'

const logger = testLogger()
/** A request the test gave up on (no answer within its own timeout): held, not failed with a code. */
const NO_ANSWER = 'no answer (test timeout)'

interface Attempt {
  at: number
  ms: number
  status: number
  code: string | undefined
}

/** One line of figures for the docs, in the test output. */
function report(fault: string, figures: Record<string, unknown>): void {
  process.stdout.write(`# fault ${fault}: ${JSON.stringify(figures)}\n`)
}

/** The codes of failed attempts, counted: { ERR_ROUTER_UNAVAILABLE: 3 }. */
function codesOf(attempts: readonly Attempt[]): Record<string, number> {
  const codes: Record<string, number> = {}
  for (const a of attempts.filter((x) => x.status !== 200)) {
    const key = a.code ?? `HTTP ${a.status}`
    codes[key] = (codes[key] ?? 0) + 1
  }
  return codes
}

describe('router faults', { timeout: 10 * 60_000 }, () => {
  let net: WorkerNet
  let dir: string
  let failBudget: string
  const daemon = (name: string): Daemon => {
    const d = net.worker(name).daemon
    assert.ok(d)
    return d
  }
  const aliceRouter = (): Router => {
    const r = daemon('alice').router.router
    assert.ok(r, 'alice supervises her router')
    return r
  }
  const charlieKey = (): string => net.worker('charlie').workerKey

  /** alice's counters for charlie (the period's books), as /v1/peers shows them. */
  async function countersForCharlie(): Promise<{ requestsOut: number; bytesOut: number; bytesIn: number }> {
    const { peers } = (await call(apiOf(daemon('alice')), 'GET', '/v1/peers')).json() as {
      peers: Array<{
        workerKey: string
        traffic?: { requestsOut: number; bytesOut: number; bytesIn: number }
      }>
    }
    const traffic = peers.find((p) => p.workerKey === charlieKey())?.traffic
    assert.ok(traffic, 'alice counts her traffic with charlie')
    return traffic
  }

  /** alice -> charlie, one request; any failure is an attempt with its code. */
  async function attempt(timeout = 15_000): Promise<Attempt> {
    const at = Date.now()
    try {
      const res = await call(apiOf(daemon('alice')), 'GET', `/v1/workers/${charlieKey()}/hello`, { timeout })
      const code = res.status === 200 ? undefined : (res.json().code as string | undefined)
      return { at, ms: Date.now() - at, status: res.status, code }
    } catch (err) {
      const code = /no answer in time/.test(String(err)) ? NO_ANSWER : String(err)
      return { at, ms: Date.now() - at, status: 0, code }
    }
  }

  /** Requests one after another until one sent after `afterTime` succeeds (or `bound` passes). */
  async function untilRecovered(afterTime: number, bound: number, timeout?: number): Promise<Attempt[]> {
    const attempts: Attempt[] = []
    const deadline = Date.now() + bound
    while (Date.now() < deadline) {
      const a = await attempt(timeout)
      attempts.push(a)
      if (a.status === 200 && a.at >= afterTime) return attempts
      await sleep(500)
    }
    assert.fail(`no request succeeded within ${bound} ms: ${JSON.stringify(codesOf(attempts))}`)
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-faults-'))
    const real = await testBinary()
    failBudget = join(dir, 'fail-budget')
    const wrapper = join(dir, 'flaky-i2pd')
    const quoted = [real.command, ...real.args].map((a) => `'${a}'`).join(' ')
    await writeFile(
      wrapper,
      [
        '#!/bin/sh',
        `n=$(cat '${failBudget}' 2>/dev/null || echo 0)`,
        `if [ "$n" -gt 0 ]; then echo $((n - 1)) > '${failBudget}'; echo "i2pd: injected failure, $n left" >&2; exit 1; fi`,
        `exec ${quoted} "$@"`,
        '',
      ].join('\n'),
    )
    await chmod(wrapper, 0o755)
    net = await createWorkerNet(
      {
        dir,
        binary: real,
        workers: [
          {
            name: 'alice',
            suri: '//Alice',
            router: 'managed',
            config: { router: { mode: 'managed', i2pd: wrapper }, warm: { peers: 'none' } },
          },
          { name: 'charlie', suri: '//Charlie', router: { attach: 3 } },
          { name: 'dave', suri: '//Dave', router: 'managed', start: false },
        ],
      },
      { logger },
    )
    const first = await untilRecovered(0, 120_000) // alice's first path to charlie
    report('warm-up', { attempts: first.length })
  })
  after(async () => {
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('SIGSTOP of the router: /healthz turns 503 within 5 s, 200 again after SIGCONT', async (t) => {
    const api = apiOf(daemon('alice'))
    const health = async (): Promise<{ status: number; state: string }> => {
      const res = await call(api, 'GET', '/healthz', { token: null, timeout: 5000 })
      return { status: res.status, state: String(res.json().state) }
    }
    assert.equal((await health()).status, 200)
    const pid = aliceRouter().pid ?? 0
    t.after(() => {
      process.kill(pid, 'SIGCONT')
    })
    process.kill(pid, 'SIGSTOP')
    const stoppedAt = Date.now()
    const during = attempt(30_000) // a request sent into the hung router
    let red: { status: number; state: string } | undefined
    while (Date.now() - stoppedAt < 10_000) {
      const h = await health()
      if (h.status !== 200) {
        red = h
        break
      }
      await sleep(100)
    }
    const redMs = Date.now() - stoppedAt
    assert.deepEqual(red, { status: 503, state: 'router-unresponsive' })
    assert.ok(redMs <= 5000, `red after ${redMs} ms`)
    const status = (await call(api, 'GET', '/v1/status')).json() as {
      router: { health: { responsive: boolean } }
    }
    assert.equal(status.router.health.responsive, false)
    const fast = await attempt(5000) // a new request while the router is known hung: refused at once
    assert.deepEqual([fast.status, fast.code], [503, 'ERR_ROUTER_UNRESPONSIVE'])
    assert.ok(fast.ms < 1000, `refused after ${fast.ms} ms`)
    await sleep(3000)
    process.kill(pid, 'SIGCONT')
    const contAt = Date.now()
    while ((await health()).status !== 200) {
      assert.ok(Date.now() - contAt < 20_000, 'green again within 20 s')
      await sleep(100)
    }
    const greenMs = Date.now() - contAt
    const held = await during
    const afterwards = await untilRecovered(contAt, 120_000)
    report('SIGSTOP router', {
      redMs,
      greenMs,
      heldRequest: { ms: held.ms, status: held.status, code: held.code },
      newRequest: { ms: fast.ms, status: fast.status, code: fast.code },
      recoverAfterContMs: (afterwards.at(-1)?.at ?? 0) - contAt,
      codes: codesOf(afterwards),
    })
  })

  test('kill -9 of the managed router: restarted, same b32, requests recover', async () => {
    const router = aliceRouter()
    const b32 = daemon('alice').b32
    const before = (await call(apiOf(daemon('alice')), 'GET', '/v1/status')).json()
    assert.equal(before.b32, b32)
    const counted = await countersForCharlie()
    const pid = router.pid ?? 0
    const ready = once(router, 'ready').then(() => Date.now())
    const sessionUp = once(daemon('alice').session, 'up').then(() => Date.now())
    const killedAt = Date.now()
    process.kill(pid, 'SIGKILL')
    const attempts = await untilRecovered(killedAt, 240_000)
    const routerReadyMs = (await ready) - killedAt
    const sessionUpMs = (await sessionUp) - killedAt
    const recoverMs = (attempts.at(-1)?.at ?? 0) - killedAt
    assert.notEqual(router.pid, pid)
    assert.equal(await isRouterPid(pid, router.config.dataDir), false)
    const status = (await call(apiOf(daemon('alice')), 'GET', '/v1/status')).json()
    assert.equal(status.b32, b32, 'the same destination after the restart')
    // charlie reaches alice again by key: her destination is the one the registry names, and a stream charlie
    // kept to her old session (dead, and i2pd does not say so) is found out by her new session's token. A
    // request that meets a stale LeaseSet of hers in charlie's router fails with a code (ERR_PEER_LOST after the
    // probe's 15 s), never by waiting out the 60 s idle limit; charlie's caller tries again
    const backAt = Date.now()
    const tries: Array<[number, number, string]> = []
    for (;;) {
      const t0 = Date.now()
      const back = await call(
        apiOf(daemon('charlie')),
        'GET',
        `/v1/workers/${net.worker('alice').workerKey}/hello`,
        { timeout: 60_000 },
      )
      const code = back.status === 200 ? '' : String(back.json().code)
      tries.push([back.status, Date.now() - t0, code])
      if (back.status === 200) break
      assert.ok(code.startsWith('ERR_'), `charlie's request failed without a code: ${back.status}`)
      assert.ok(
        Date.now() - t0 < 45_000,
        `charlie's request took ${Date.now() - t0} ms: it waited out the idle limit`,
      )
      assert.ok(Date.now() - backAt < 120_000, `charlie never reached alice again: ${JSON.stringify(tries)}`)
    }
    const backMs = Date.now() - backAt
    assert.ok(
      tries.every(([, ms]) => ms < 45_000),
      `a request waited out the idle limit: ${JSON.stringify(tries)}`,
    )
    const failed = attempts.filter((a) => a.status !== 200)
    const now = await countersForCharlie()
    assert.ok(
      now.requestsOut >= counted.requestsOut + 1,
      'the counters kept across the restart, and counting',
    )
    assert.ok(now.bytesOut > counted.bytesOut && now.bytesIn > counted.bytesIn)
    for (const a of failed) {
      const coded = a.code?.startsWith('ERR_') === true || a.code === NO_ANSWER
      assert.ok(coded, `a failed request: ${JSON.stringify(a)}`)
    }
    report('kill -9 router', {
      routerReadyMs,
      sessionUpMs,
      recoverMs,
      charlieToAliceMs: backMs,
      charlieTries: tries,
      requests: attempts.length,
      failed: failed.length,
      codes: codesOf(attempts),
      timeline: attempts.map((a) => [a.at - killedAt, a.ms, a.code ?? a.status]),
    })
  })

  test('a router whose binary fails its first restarts is restarted again with backoff, then ready', async () => {
    const router = aliceRouter()
    const failures: PRouterError[] = []
    const delays: number[] = []
    const onFail = (err: PRouterError): void => {
      failures.push(err)
    }
    const onRestart = (r: { delayMs: number }): void => {
      delays.push(r.delayMs)
    }
    router.on('restartFailed', onFail)
    router.on('restart', onRestart)
    await writeFile(failBudget, '3')
    const ready = once(router, 'ready')
    const killedAt = Date.now()
    process.kill(router.pid ?? 0, 'SIGKILL')
    const sessionUp = once(daemon('alice').session, 'up').then(() => Date.now())
    // requests while the router is down, until its session is back (the path to the peer then recovers as
    // after a plain kill -9: see the test above)
    const attempts: Attempt[] = []
    const session = { up: false }
    void sessionUp.then(() => (session.up = true))
    while (!session.up) {
      attempts.push(await attempt(5000))
      await sleep(500)
    }
    await ready
    const readyMs = Date.now() - killedAt
    router.off('restartFailed', onFail)
    router.off('restart', onRestart)
    assert.equal(failures.length, 3)
    for (const f of failures) assert.match(f.message, /injected failure/)
    assert.deepEqual(delays.length, 4)
    for (let i = 1; i < delays.length; i++)
      assert.ok((delays[i] ?? 0) >= (delays[i - 1] ?? 0), 'backoff grows')
    // down, or (while the new i2pd starts on a loaded machine) up but not yet answering its liveness probe
    const refusals = new Set(['ERR_ROUTER_UNAVAILABLE', 'ERR_ROUTER_UNRESPONSIVE'])
    assert.ok(
      attempts.every((a) => a.status === 503 && refusals.has(a.code ?? '')),
      `refused at once, with a code: ${JSON.stringify(attempts.map((a) => [a.status, a.code, a.ms]))}`,
    )
    report('restarts fail 3 times', {
      delaysMs: delays,
      routerReadyMs: readyMs,
      sessionUpMs: (await sessionUp) - killedAt,
      requests: attempts.length,
      failed: attempts.filter((a) => a.status !== 200).length,
      codes: codesOf(attempts),
    })
  })

  test('kill -9 of a prouter run process: its i2pd dies with it; a new one starts on the same key', async () => {
    const dave = net.worker('dave')
    const file = join(dir, 'dave.json')
    await writeFile(file, JSON.stringify(dave.input), { mode: 0o600 })
    const dataDir = String(dave.input.dataDir)
    const routerDir = join(dataDir, 'router')
    const keysBefore = await hashDir(join(dataDir, 'keys'))
    const first = await spawnDaemon(file, 180_000)
    let child: ChildProcess = first.child
    const i2pd = await readPidFile(routerDir)
    assert.ok(i2pd !== undefined && (await isRouterPid(i2pd, routerDir)), "dave's i2pd runs")
    const killedAt = Date.now()
    child.kill('SIGKILL')
    await once(child, 'exit')
    while (await isRouterPid(i2pd, routerDir)) {
      assert.ok(Date.now() - killedAt < 5000, 'its i2pd is gone within 5 s')
      await sleep(20)
    }
    const goneMs = Date.now() - killedAt
    const restartAt = Date.now()
    const second = await spawnDaemon(file, 180_000)
    child = second.child
    const readyMs = Date.now() - restartAt
    try {
      assert.equal(second.ready.b32, first.ready.b32, 'the same destination')
      assert.equal(second.ready.workerKey, first.ready.workerKey)
      assert.deepEqual(await hashDir(join(dataDir, 'keys')), keysBefore, 'the key files unchanged')
      const next = await readPidFile(routerDir)
      assert.ok(next !== undefined && next !== i2pd && (await isRouterPid(next, routerDir)))
    } finally {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
    report('kill -9 prouter run', { i2pdGoneMs: goneMs, restartReadyMs: readyMs, sameB32: true })
  })
})

/** sha256 of each file in `dir`, by name. */
async function hashDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of (await readdir(dir)).sort()) {
    out[name] = createHash('sha256')
      .update(await readFile(join(dir, name)))
      .digest('hex')
  }
  return out
}
