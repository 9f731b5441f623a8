/**
 * The real deployment on an emulated internet (CI-sized): five routers in namespaces linked by the
 * `continental` WAN profile (20-60 ms one way per link, ±3 ms, 0.1 % loss, through the user-space forwarder),
 * and charlie behind his own NAT running `prouter run` with its own managed i2pd inside his namespace —
 * his registry and his service reached from in there. Alice (attached to a public router) reaches him by key
 * and he is told it was alice; he reaches her; a run of requests both ways has no error. Asserts behaviour,
 * not timings (those are in bench/). Needs root and cc.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWorkerNet, type WorkerNet } from '../../src/testnet/workers.js'
import { sleep } from '../../src/signals.js'
import { runWorkerProcess } from '../../src/testnet/worker-process.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'
import { apiOf, call, type Api } from '../helpers/daemon-client.js'

const REQUESTS = 20

describe('a managed worker behind NAT on continental links', { timeout: 12 * 60_000 }, () => {
  let net: WorkerNet
  let dir: string
  let charlie: { pid: number; stop: () => Promise<void>; api: Api; workerKey: string }
  let reachableMs: number
  const alice = (): Api => {
    const d = net.worker('alice').daemon
    assert.ok(d)
    return apiOf(d)
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-wan-nat-'))
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        network: 'nat',
        wan: 'continental',
        routers: 5,
        workers: [
          { name: 'alice', suri: '//Alice', router: { attach: 2 } },
          { name: 'charlie', suri: '//Charlie', router: 'managed', start: false },
        ],
      },
      { logger: testLogger() },
    )
    const started = Date.now()
    const p = await runWorkerProcess(net, net.worker('charlie'))
    charlie = {
      pid: p.pid,
      stop: () => p.stop(),
      api: { url: p.apiUrl, token: p.token },
      workerKey: p.workerKey,
    }
    await until(async () => {
      const res = await call(alice(), 'GET', `/v1/workers/${charlie.workerKey}/hello`, { timeout: 30_000 })
      return res.status === 200
    }, 240_000).catch(async (err: unknown) => {
      const links = JSON.stringify((await net.testnet.nat?.topology.wan?.stats()) ?? [])
      throw new Error(
        `${String(err)}; charlie: ${await statusOf(charlie.api)}; alice: ${await statusOf(alice())}; links: ${links}`,
      )
    })
    reachableMs = Date.now() - started
  })
  after(async () => {
    await charlie.stop()
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('the links are emulated: the testnet says continental, the forwarder carried the packets', async (t) => {
    assert.equal(net.testnet.state.wan, 'continental')
    const stats = (await net.testnet.nat?.topology.wan?.stats()) ?? []
    const forwarded = stats.reduce((n, s) => n + s.forwarded, 0)
    const lost = stats.reduce((n, s) => n + s.lost, 0)
    t.diagnostic(`forwarder: ${forwarded} packets on ${stats.length} links, ${lost} dropped as lost`)
    assert.ok(
      stats.some((s) => s.from === 'w0' && s.forwarded > 0),
      "charlie's gateway link carried his traffic",
    )
    assert.ok(forwarded > 1000)
  })

  test('charlie runs his own i2pd inside his namespace, behind NAT', async () => {
    const status = await call(charlie.api, 'GET', '/v1/status')
    assert.equal(status.status, 200)
    const host = net.worker('charlie').host
    assert.ok(host?.gateway)
    const ns = await namespacePids(host.netns)
    const pids = ns.trim().split('\n').map(Number)
    assert.ok(pids.includes(charlie.pid), 'prouter run is in the NAT namespace')
    assert.ok(pids.length >= 3, `its i2pd and the agent as well: ${pids.join(',')}`)
  })

  test('alice reaches charlie by key; he is told alice called; the body crosses intact', async (t) => {
    t.diagnostic(`charlie (behind NAT, own i2pd) reachable ${reachableMs} ms after prouter run started`)
    const hello = await call(alice(), 'GET', `/v1/workers/${charlie.workerKey}/hello`)
    assert.equal(hello.status, 200)
    assert.equal(hello.json().worker, 'charlie')
    assert.equal(hello.json().caller, net.worker('alice').workerKey)
    const body = randomBytes(64 * 1024)
    const echo = await call(alice(), 'POST', `/v1/workers/${charlie.workerKey}/echo`, {
      body,
      timeout: 120_000,
    })
    assert.equal(echo.status, 200)
    assert.equal(sha256(echo.body), sha256(body))
  })

  test(`charlie reaches alice by key; ${REQUESTS} requests each way, no error`, async (t) => {
    const aliceKey = net.worker('alice').workerKey
    const failures: string[] = []
    const times: number[] = []
    for (let i = 0; i < REQUESTS; i++) {
      for (const [from, to, caller] of [
        [charlie.api, aliceKey, charlie.workerKey],
        [alice(), charlie.workerKey, aliceKey],
      ] as const) {
        const started = Date.now()
        const res = await call(from, 'GET', `/v1/workers/${to}/hello`, { timeout: 60_000 })
        times.push(Date.now() - started)
        if (res.status !== 200 || res.json().caller !== caller)
          failures.push(`${res.status} ${res.body.toString()}`)
      }
    }
    times.sort((a, b) => a - b)
    t.diagnostic(`${times.length} requests: p50 ${times[times.length >> 1]} ms, max ${times.at(-1)} ms`)
    assert.deepEqual(failures, [])
  })
})

/** What a daemon says of its router, session and tunnels: with the links' packet counts, why a worker was not reached. */
async function statusOf(api: Api): Promise<string> {
  try {
    const { router, session, tunnels, binding } = (await call(api, 'GET', '/v1/status')).json()
    return JSON.stringify({ router, session, tunnels, binding })
  } catch (err) {
    return `no status: ${String(err)}`
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

async function until<T>(fn: () => Promise<T | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await fn()
      if (v !== false) return v
    } catch (err) {
      last = err
    }
    await sleep(2000)
  }
  throw new Error(`not within ${ms} ms: ${String(last)}`)
}

function namespacePids(netns: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['netns', 'pids', netns], (err, out) => {
      if (err === null) resolve(out)
      else reject(new Error(`ip netns pids ${netns}`, { cause: err }))
    })
  })
}
