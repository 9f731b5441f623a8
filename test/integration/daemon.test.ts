/**
 * The daemon on real i2pd routers (run isolated: scripts/isolated.sh). One network for the file: a 4-router
 * testnet, the local registry over HTTP, and three workers — alice and bob supervise their own routers,
 * charlie runs as a `prouter run` process attached to a testnet router that publishes no address.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { connect } from 'node:net'
import { join } from 'node:path'
import { createWorkerNet, type WorkerNet } from '../../src/testnet/workers.js'
import { createSamSession, type SamSession } from '../../src/sam/index.js'
import { createHttpBackend } from '../../src/registry/index.js'
import {
  encodeEndpointPayload,
  endpointSigningMessage,
  i2pEndpoint,
  signBinding,
  workerKeyFromSuri,
} from '../../src/identity/index.js'
import { isPRouterError } from '../../src/errors.js'
import { workerHost } from '../../src/proxy/worker-name.js'
import { sleep } from '../../src/signals.js'
import { KIB, MIB } from '../../src/constants.js'
import type { Daemon } from '../../src/daemon/daemon.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'
import { apiOf, call, rawHttp, spawnDaemon, type Api } from '../helpers/daemon-client.js'

const logger = testLogger()

describe('prouter daemon on a private network', { timeout: 15 * 60_000 }, () => {
  let net: WorkerNet
  let charlie: { child: ChildProcess; api: Api; workerKey: string; b32: string }
  let attacker: SamSession
  let dir: string
  const keyOf = (name: string): string => net.worker(name).workerKey
  const daemon = (name: string): Daemon => {
    const d = net.worker(name).daemon
    assert.ok(d)
    return d
  }
  const alice = (): Api => apiOf(daemon('alice'))

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-daemon-')) // removed in after(): routers re-read it on restart
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [
          {
            name: 'alice',
            suri: '//Alice',
            router: 'managed',
            config: {
              outbound: { maxStreams: 8, maxStreamsPerPeer: 8, maxPending: 4, connectTimeout: 15_000 },
            },
          },
          {
            name: 'bob',
            suri: '//Bob',
            router: 'managed',
            config: {
              inbound: {
                allowAnonymous: false,
                allowPaths: ['/hello', '/echo', '/slow'],
                rateLimit: { perSecond: 1, burst: 5 },
              },
              limits: { maxBodyBytes: 64 * KIB, maxHeaderBytes: 4 * KIB, requestTimeout: 4000 },
            },
          },
          { name: 'charlie', suri: '//Charlie', router: { attach: 3 }, start: false },
        ],
      },
      { logger },
    )
    const file = join(dir, 'charlie.json')
    await writeFile(file, JSON.stringify(net.worker('charlie').input), { mode: 0o600 })
    const { child, ready } = await spawnDaemon(file)
    const token = readFile(join(dir, 'workers', 'charlie', 'api.token'), 'utf8')
    charlie = {
      child,
      api: { url: String(ready.api), token: (await token).trim() },
      workerKey: String(ready.workerKey),
      b32: String(ready.b32),
    }
    attacker = await createSamSession(
      { sam: net.testnet.state.routers[1]?.sam ?? { host: '', port: 0 }, tunnels: hops(1) },
      { logger },
    )
  })
  after(async () => {
    attacker.destroy()
    if (charlie.child.exitCode === null) charlie.child.kill('SIGKILL')
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('alice reaches charlie by key; charlie is told, verified, that alice called', async () => {
    assert.equal(charlie.workerKey, keyOf('charlie'))
    const res = await call(alice(), 'GET', `/v1/workers/${charlie.workerKey}/hello?x=1`)
    assert.equal(res.status, 200, res.body.toString())
    const seen = res.json()
    assert.equal(seen.worker, 'charlie')
    assert.equal(seen.caller, keyOf('alice'))
    assert.equal(seen.callerAddress, daemon('alice').b32)
    assert.equal(seen.path, '/hello')
  })

  test('10 MiB streamed both ways, byte for byte', async () => {
    const body = randomBytes(10 * MIB)
    const res = await call(alice(), 'POST', `/v1/workers/${charlie.workerKey}/echo`, {
      body,
      timeout: 240_000,
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.length, body.length)
    assert.equal(sha256(res.body), sha256(body))
  })

  test('the same worker through the HTTP forward proxy and through CONNECT', async () => {
    const api = alice()
    const target = `http://${workerHost(charlie.workerKey)}/hello`
    const proxied = await call(api, 'GET', target, {
      token: null,
      headers: { 'proxy-authorization': `Bearer ${api.token}` },
    })
    assert.equal(proxied.status, 200)
    assert.equal(proxied.json().caller, keyOf('alice'))
    const socket = connect(Number(new URL(api.url).port), '127.0.0.1')
    await once(socket, 'connect')
    socket.write(
      `CONNECT ${workerHost(charlie.workerKey)}:80 HTTP/1.1\r\nproxy-authorization: Bearer ${api.token}\r\n\r\n`,
    )
    const [established] = (await once(socket, 'data')) as [Buffer]
    assert.match(established.toString(), /^HTTP\/1\.1 200/)
    const answer = await rawHttp(socket, 'GET /hello HTTP/1.1\r\nhost: charlie')
    assert.equal(answer.status, 200)
    assert.equal((JSON.parse(answer.text) as { caller: string }).caller, keyOf('alice'))
  })

  test('malformed key 400, unknown worker 404, missing token 401 — as {code, message}', async () => {
    const api = alice()
    const bad = await call(api, 'GET', '/v1/workers/0x1234/hello')
    assert.deepEqual([bad.status, bad.json().code], [400, 'ERR_INVALID_WORKER_KEY'])
    const unknown = await call(api, 'GET', `/v1/workers/0x${'ab'.repeat(32)}/hello`)
    assert.deepEqual([unknown.status, unknown.json().code], [404, 'ERR_REGISTRY_NOT_FOUND'])
    const anonymous = await call(api, 'GET', `/v1/workers/${charlie.workerKey}/hello`, { token: null })
    assert.deepEqual([anonymous.status, anonymous.json().code], [401, 'ERR_API_UNAUTHORIZED'])
    const wrong = await call(api, 'GET', '/v1/status', { token: 'x'.repeat(64) })
    assert.equal(wrong.status, 401)
  })

  test('a forged or replayed binding is not trusted; an unregistered caller is anonymous', async () => {
    const registry = createHttpBackend({ url: net.registryUrl, token: net.registryToken })
    const aliceKey = await workerKeyFromSuri('//Alice')
    const eve = await workerKeyFromSuri('//Eve')
    const claim = [i2pEndpoint(attacker.b32)]
    const forgedPayload = encodeEndpointPayload({
      pubkey: aliceKey.publicKey,
      endpoints: claim,
      signingTime: BigInt(Date.now()),
    })
    const forged = { payload: forgedPayload, signature: eve.sign(endpointSigningMessage(forgedPayload)) }
    await assert.rejects(registry.publish(forged), (err) => isPRouterError(err, 'ERR_BINDING_SIGNATURE'))
    const current = (await call(alice(), 'GET', '/v1/status')).json().binding as { signingTime: number }
    const replayed = signBinding(aliceKey, claim, current.signingTime - 60_000) // alice's, but older
    await assert.rejects(registry.publish(replayed), (err) => isPRouterError(err, 'ERR_BINDING_REPLAYED'))
    const stream = await attacker.connect(charlie.b32)
    const spoof = `GET /hello HTTP/1.1\r\nhost: charlie\r\nx-prouter-caller: ${keyOf('alice')}`
    const answer = await rawHttp(stream, spoof)
    assert.equal(answer.status, 200)
    const seen = JSON.parse(answer.text) as { caller: string; callerAddress: string }
    assert.equal(
      seen.caller,
      'anonymous',
      'neither the spoofed header nor the refused bindings made it alice',
    )
    assert.equal(seen.callerAddress, attacker.b32)
    const refused = await rawHttp(
      await attacker.connect(daemon('bob').b32),
      'GET /hello HTTP/1.1\r\nhost: bob',
    )
    assert.equal(refused.status, 403)
    assert.equal((JSON.parse(refused.text) as { code: string }).code, 'ERR_ANONYMOUS_REFUSED')
    await registry.close()
  })

  test("bob's inbound limits: paths, body size, header size, total time, rate", async () => {
    const api = alice()
    const bob = keyOf('bob')
    const path = await call(api, 'GET', `/v1/workers/${bob}/admin`)
    assert.deepEqual([path.status, path.json().code], [403, 'ERR_PATH_NOT_ALLOWED'])
    const headers = await call(api, 'GET', `/v1/workers/${bob}/hello`, {
      headers: { 'x-big': 'h'.repeat(8 * KIB) },
    })
    assert.deepEqual([headers.status, headers.json().code], [431, 'ERR_HEADERS_TOO_LARGE'])
    const body = await call(api, 'POST', `/v1/workers/${bob}/echo`, { body: randomBytes(100 * KIB) })
    assert.deepEqual([body.status, body.json().code], [413, 'ERR_BODY_TOO_LARGE'])
    const slow = await call(api, 'GET', `/v1/workers/${bob}/slow?ms=8000`)
    assert.deepEqual([slow.status, slow.json().code], [504, 'ERR_REQUEST_TIMEOUT'])
    const burst = [] // one after the other, on the same kept-alive stream, far faster than 1/s
    for (let i = 0; i < 15; i++) burst.push(await call(api, 'GET', `/v1/workers/${bob}/hello`))
    const limited = burst.filter((r) => r.status === 429)
    assert.ok(
      limited.length >= 3,
      `expected 429s past the burst of 5, got ${burst.map((r) => r.status).join(' ')}`,
    )
    const first = limited[0]
    assert.ok(first)
    assert.equal(first.json().code, 'ERR_RATE_LIMITED')
    assert.match(String(first.headers['retry-after']), /^\d+$/)
    assert.ok(burst.some((r) => r.status === 200))
  })

  test("alice's outbound limit refuses requests past streams + pending with ERR_TOO_MANY_STREAMS", async () => {
    const api = alice()
    const all = await Promise.all(
      Array.from({ length: 20 }, () => call(api, 'GET', `/v1/workers/${charlie.workerKey}/slow?ms=3000`)),
    )
    const refused = all.filter((r) => r.status === 503)
    assert.equal(refused.length, 8, `statuses: ${all.map((r) => r.status).join(' ')}`)
    assert.equal(refused[0]?.json().code, 'ERR_TOO_MANY_STREAMS')
    assert.equal(all.filter((r) => r.status === 200).length, 12)
  })

  test('status and peers report identity, router, pinned hops and peers', async () => {
    const status = (await call(alice(), 'GET', '/v1/status')).json()
    assert.equal(status.workerKey, keyOf('alice'))
    assert.equal(status.b32, daemon('alice').b32)
    type Side = {
      hops: number
      quantity: number
      lengthVariance: number
      established: number
      builtHops: number[]
    }
    const tunnels = status.tunnels as { inbound: Side; outbound: Side }
    for (const side of [tunnels.inbound, tunnels.outbound]) {
      assert.deepEqual(
        [side.hops, side.quantity, side.lengthVariance],
        [1, 2, 0],
        'as asked, variance pinned',
      )
      assert.ok(side.established >= 1, 'read from the router: tunnels are up')
      assert.ok(
        side.builtHops.every((h) => h === 1),
        `every built tunnel has 1 hop: ${side.builtHops.join(',')}`,
      )
    }
    const router = status.router as { mode: string; state: string; version: string }
    assert.deepEqual(
      [router.mode, router.state, router.version],
      ['managed', 'ready', net.testnet.state.version],
    )
    assert.equal((status.peers as { known: number }).known, 2)
    const peers = (await call(alice(), 'GET', '/v1/peers')).json().peers as Array<{ workerKey: string }>
    assert.deepEqual(peers.map((p) => p.workerKey).sort(), [keyOf('bob'), charlie.workerKey].sort())
    const health = await call(charlie.api, 'GET', '/healthz', { token: null })
    assert.equal(health.status, 200)
  })

  test('router killed mid-flight: 503, then the service returns with the same address', async () => {
    const a = daemon('alice')
    const b32 = a.b32
    const pid = a.router.router?.pid
    assert.ok(pid !== undefined)
    const inFlight = call(alice(), 'GET', `/v1/workers/${charlie.workerKey}/slow?ms=6000`)
    await sleep(1500)
    process.kill(pid, 'SIGKILL')
    const cut = await inFlight
    assert.deepEqual([cut.status, cut.json().code], [503, 'ERR_ROUTER_UNAVAILABLE'])
    const during = await call(alice(), 'GET', `/v1/workers/${charlie.workerKey}/hello`, { timeout: 10_000 })
    assert.deepEqual([during.status, during.json().code], [503, 'ERR_ROUTER_UNAVAILABLE'])
    await until(async () => (await call(alice(), 'GET', '/healthz', { token: null })).status === 200, 120_000)
    assert.notEqual(a.router.router?.pid, pid, 'the supervisor started a new i2pd')
    await until(
      async () => (await call(alice(), 'GET', `/v1/workers/${charlie.workerKey}/hello`)).status === 200,
      90_000,
    )
    assert.equal((await call(alice(), 'GET', '/v1/status')).json().b32, b32)
    const back = await until(async () => {
      const r = await call(charlie.api, 'GET', `/v1/workers/${keyOf('alice')}/hello`)
      return r.status === 200 ? r : undefined
    }, 90_000)
    assert.equal(back.json().caller, charlie.workerKey, 'alice is reachable again at the same address')
  })

  test('prouter run stops cleanly on SIGTERM', async () => {
    const exited = once(charlie.child, 'exit')
    charlie.child.kill('SIGTERM')
    const [code] = (await Promise.race([exited, sleep(30_000).then(() => ['timeout'])])) as [number | string]
    assert.equal(code, 0)
  })

  test('a registered worker that is down: 504 ERR_PEER_UNREACHABLE within the connect deadline', async () => {
    assert.notEqual(charlie.child.exitCode, null, 'charlie stopped in the test before')
    const started = Date.now()
    const res = await call(alice(), 'GET', `/v1/workers/${charlie.workerKey}/hello`, { timeout: 60_000 })
    assert.deepEqual([res.status, res.json().code], [504, 'ERR_PEER_UNREACHABLE'])
    assert.ok(Date.now() - started < 45_000, 'bounded by outbound.connectTimeout, never a hang')
  })
})

function hops(n: number) {
  return { inbound: { length: n, quantity: 2 }, outbound: { length: n, quantity: 2 } }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

/** Poll `check` every second until it returns something truthy, bounded by `ms`. */
async function until<T>(check: () => Promise<T | false | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await sleep(1000)
  }
}
