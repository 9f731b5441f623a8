/**
 * Proxy faults on real i2pd (run isolated: scripts/isolated.sh). A 4-router testnet and four workers that
 * attach to its routers: alice calls; carol serves with tight inbound limits and an allow list; dave shares
 * carol's router (which is killed last); erin is a `prouter run` process (killed with SIGKILL, then started
 * again). Anonymous callers are raw SAM sessions on their own destinations. Figures are printed as test
 * diagnostics (docs/reliability.md, "Proxy faults", quotes them).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { createWorkerNet, type WorkerNet } from '../../../src/testnet/workers.js'
import { createSamSession, type SamSession } from '../../../src/sam/index.js'
import { workerHost } from '../../../src/proxy/worker-name.js'
import { sleep } from '../../../src/signals.js'
import type { Daemon } from '../../../src/daemon/daemon.js'
import { testBinary, testLogger } from '../../helpers/i2pd.js'
import { apiOf, call, rawHttp, spawnDaemon, type Answer, type Api } from '../../helpers/daemon-client.js'

const logger = testLogger()
const PROBE_AFTER = 5_000
const PROBE_TIMEOUT = 10_000
const ANONYMOUS_IDLE = 5_000
const CAROL_MAX_STREAMS = 8
const PER_CALLER = 4

describe('proxy faults on a private network', { timeout: 20 * 60_000 }, () => {
  let net: WorkerNet
  let dir: string
  let erinFile: string
  let erin: { child: ChildProcess; workerKey: string }
  const attackers: SamSession[] = []
  const keyOf = (name: string): string => net.worker(name).workerKey
  const daemon = (name: string): Daemon => {
    const d = net.worker(name).daemon
    assert.ok(d)
    return d
  }
  const alice = (): Api => apiOf(daemon('alice'))
  const sam = (i: number) => net.testnet.state.routers[i]?.sam ?? { host: '', port: 0 }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-faults-proxy-'))
    const outbound = { connectTimeout: 15_000, probeAfter: PROBE_AFTER, probeTimeout: PROBE_TIMEOUT }
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [
          { name: 'alice', suri: '//Alice', router: { attach: 0 }, config: { outbound } },
          {
            name: 'carol',
            suri: '//Carol',
            router: { attach: 2 },
            config: {
              inbound: {
                allowPaths: ['/public/*', '/hello', '/slow'],
                maxStreams: CAROL_MAX_STREAMS,
                maxStreamsPerCaller: PER_CALLER,
                anonymousIdleTimeout: ANONYMOUS_IDLE,
              },
            },
          },
          { name: 'dave', suri: '//Dave', router: { attach: 2 } },
          { name: 'erin', suri: '//Erin', router: { attach: 3 }, start: false },
        ],
      },
      { logger },
    )
    erinFile = join(dir, 'erin.json')
    await writeFile(erinFile, JSON.stringify(net.worker('erin').input), { mode: 0o600 })
    const { child, ready } = await spawnDaemon(erinFile)
    erin = { child, workerKey: String(ready.workerKey) }
    for (const router of [1, 3]) {
      attackers.push(await createSamSession({ sam: sam(router), tunnels: hops(1) }, { logger }))
    }
  })
  after(async () => {
    for (const a of attackers) a.destroy()
    if (erin.child.exitCode === null && erin.child.signalCode === null) erin.child.kill('SIGKILL')
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('allowPaths: encoded separators and dot segments are refused with 400 ERR_PATH_AMBIGUOUS', async () => {
    const carol = keyOf('carol')
    const served = await call(alice(), 'GET', `/v1/workers/${carol}/public/a.txt`)
    assert.equal(served.status, 200)
    assert.equal(served.json().path, '/public/a.txt')
    for (const path of ['/public/..%2fadmin', '/public/..%5Cadmin', '/public/%2e%2e/admin', '/public//x']) {
      const refused = await call(alice(), 'GET', `/v1/workers/${carol}${path}`)
      assert.deepEqual([refused.status, refused.json().code], [400, 'ERR_PATH_AMBIGUOUS'], path)
    }
  })

  test('CONNECT is counted on the sending side as on the receiving side', async () => {
    const carol = keyOf('carol')
    const before = await settledCounts() // an exchange is counted as the relay ends it, just after its client has it
    assert.equal((await call(alice(), 'GET', `/v1/workers/${carol}/hello`)).status, 200)
    const api = alice()
    const proxied = await call(api, 'GET', `http://${workerHost(carol)}/hello`, {
      token: null,
      headers: { 'proxy-authorization': `Bearer ${api.token}` },
    })
    assert.equal(proxied.status, 200)
    const socket = connect(Number(new URL(api.url).port), '127.0.0.1')
    await once(socket, 'connect')
    socket.write(
      `CONNECT ${workerHost(carol)}:80 HTTP/1.1\r\nproxy-authorization: Bearer ${api.token}\r\n\r\n`,
    )
    const [established] = (await once(socket, 'data')) as [Buffer]
    assert.match(established.toString(), /^HTTP\/1\.1 200/)
    assert.equal((await rawHttp(socket, 'GET /hello HTTP/1.1\r\nhost: carol')).status, 200)
    const now = await until(async () => {
      const c = await requestCounts()
      return c.carolIn - before.carolIn === 3 ? c : undefined
    }, 10_000)
    assert.equal(now.aliceOut - before.aliceOut, 3, 'API, forward proxy and CONNECT: 3 out')
    assert.equal(now.carolIn - before.carolIn, 3, '3 in')
  })

  test('a slow answer is not a lost worker: the probe answers, the request completes', async () => {
    const started = Date.now()
    const slow = await call(alice(), 'GET', `/v1/workers/${keyOf('carol')}/slow?ms=${3 * PROBE_AFTER}`)
    assert.equal(slow.status, 200)
    assert.ok(Date.now() - started >= 3 * PROBE_AFTER)
  })

  test('an anonymous flood (idle and busy streams) does not lock out a registered worker', async () => {
    const carol = daemon('carol')
    const carolApi = apiOf(carol)
    const streamsIn = async (): Promise<number> => {
      const status = (await call(carolApi, 'GET', '/v1/status')).json()
      return Number((status.peers as { streamsIn?: unknown } | undefined)?.streamsIn ?? NaN)
    }
    interface Held {
      stream: Socket
      busy: boolean
      answer: string
      closedAt: number | undefined
    }
    const flood: Held[] = []
    const open = async (attacker: SamSession, busy: boolean): Promise<void> => {
      const stream = await attacker.connect(carol.b32).catch(() => undefined)
      if (stream === undefined) return
      const held: Held = { stream, busy, answer: '', closedAt: undefined }
      flood.push(held)
      stream.on('error', () => undefined)
      stream.on('data', (c: Buffer) => (held.answer += c.toString('latin1')))
      stream.once('close', () => (held.closedAt = Date.now()))
      if (busy) stream.write(`GET /slow?ms=120000 HTTP/1.1\r\nhost: carol\r\n\r\n`)
    }
    // attacker 0 holds idle streams (no byte sent); attacker 1 holds streams busy with a slow request
    const opened = Date.now()
    await Promise.all(
      attackers.flatMap((a, i) => Array.from({ length: 2 * PER_CALLER + 2 }, () => open(a, i === 1))),
    )
    let most = 0
    await until(async () => {
      most = Math.max(most, await streamsIn())
      return most >= CAROL_MAX_STREAMS
    }, 30_000).catch(() => undefined)
    assert.ok(most <= CAROL_MAX_STREAMS, `carol held ${most} streams, at most ${CAROL_MAX_STREAMS}`)
    const results: Answer[] = []
    for (let i = 0; i < 6; i++) {
      const path = `/v1/workers/${keyOf('carol')}/hello?i=${i}`
      results.push(await call(alice(), 'GET', path, { timeout: 30_000 }))
      most = Math.max(most, await streamsIn())
    }
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
      'alice is served during the flood',
    )
    assert.ok(results.every((r) => r.json().caller === keyOf('alice')))
    assert.ok(most <= CAROL_MAX_STREAMS, `carol held ${most} streams, at most ${CAROL_MAX_STREAMS}`)
    // idle anonymous streams are closed after anonymousIdleTimeout, not after the 5 min keep-alive
    const idle = flood.filter((h) => !h.busy)
    // a silent stream (no byte sent, so never identified) counts as anonymous: closed as soon as carol holds it
    await until(() => Promise.resolve(idle.every((h) => h.closedAt !== undefined)), 6 * ANONYMOUS_IDLE).catch(
      async (err: unknown) => {
        const open = idle.filter((h) => h.closedAt === undefined)
        throw new Error(
          `${String(err)}: ${open.length} of ${idle.length} idle streams open, carol holds ${await streamsIn()}`,
        )
      },
    )
    const refused = flood.filter((h) => h.answer.includes('ERR_TOO_MANY_STREAMS')).length
    // not closed and not refused: held by carol, or still on its way (i2pd delivers streams over seconds)
    const stillOpen = flood.filter((h) => h.closedAt === undefined && !h.answer.includes('ERR_TOO_MANY'))
    const lastIdle = Math.max(...idle.map((h) => (h.closedAt ?? 0) - opened))
    // how many get refused per caller depends on how many streams i2pd hands carol at once from one address, which
    // it does over seconds (none at all in one full run): the cap itself is asserted in stream-table.test.ts; here
    // the count is reported; what must hold whatever i2pd does is asserted above
    diag(
      `flood: ${flood.length} anonymous streams from 2 destinations; carol held at most ${most} ` +
        `(maxStreams ${CAROL_MAX_STREAMS}); ${refused} refused (ERR_TOO_MANY_STREAMS), ` +
        `${flood.length - refused - stillOpen.length} closed by carol (idle or evicted), ${stillOpen.length} busy ` +
        `not closed at the end; alice 6/6 200; last idle anonymous stream closed ${lastIdle} ms after the flood began`,
    )
    for (const h of flood) h.stream.destroy()
  })

  test('kill -9 of the peer daemon: waiting requests fail with ERR_PEER_LOST, then recover on restart', async () => {
    const warm = await call(alice(), 'GET', `/v1/workers/${erin.workerKey}/hello`)
    assert.equal(warm.status, 200, 'a pooled stream to erin')
    erin.child.kill('SIGKILL')
    await once(erin.child, 'exit')
    const killed = Date.now()
    const answers = await Promise.all(
      [0, 1, 2].map(() =>
        timed(call(alice(), 'GET', `/v1/workers/${erin.workerKey}/hello`, { timeout: 90_000 })),
      ),
    )
    for (const { answer, ms } of answers) {
      assert.ok(
        ms < PROBE_AFTER + PROBE_TIMEOUT + 10_000,
        `failed in ${ms} ms, not after the 60 s idle limit`,
      )
      assert.ok(
        ['ERR_PEER_LOST', 'ERR_PEER_UNREACHABLE', 'ERR_PEER_CLOSED'].includes(String(answer.json().code)),
        `${answer.status} ${String(answer.json().code)}`,
      )
    }
    // ERR_PEER_LOST: a request took the pooled stream, which stayed open; ERR_PEER_UNREACHABLE: erin's router
    // closed it when erin's session died (it stays up), so the request dialled a new stream; ERR_PEER_CLOSED: that
    // close reached the stream after the request took it (one full run, 2026-12-07); all three are runs seen
    diag(
      `daemon kill -9: ${answers.map((a) => `${a.answer.status} ${String(a.answer.json().code)} in ${a.ms} ms`).join('; ')}`,
    )
    const restarted = await spawnDaemon(erinFile)
    erin = { child: restarted.child, workerKey: String(restarted.ready.workerKey) }
    const back = await until(async () => {
      const r = await call(alice(), 'GET', `/v1/workers/${erin.workerKey}/hello`, { timeout: 30_000 })
      return r.status === 200 ? r : undefined
    }, 180_000)
    assert.equal(back.json().caller, keyOf('alice'))
    diag(`daemon kill -9: first 200 again ${Date.now() - killed} ms after the kill (restart included)`)
  })

  test('kill -9 of the peer router: waiting requests fail with ERR_PEER_LOST; what i2pd tells a raw stream', async () => {
    const dave = keyOf('dave')
    assert.equal((await call(alice(), 'GET', `/v1/workers/${dave}/hello`)).status, 200, 'a pooled stream')
    const raw = await attackers[0]?.connect(daemon('dave').b32)
    assert.ok(raw)
    raw.on('error', () => undefined)
    const pong = await rawHttpKeep(raw, `GET /.prouter/ping HTTP/1.1\r\nhost: dave\r\n\r\n`)
    assert.match(pong, /^HTTP\/1\.1 200/)
    const pid = net.testnet.state.routers[2]?.pid
    assert.ok(pid !== undefined)
    process.kill(pid, 'SIGKILL')
    const killed = Date.now()
    raw.write(`GET /hello HTTP/1.1\r\nhost: dave\r\n\r\n`) // unacked data: does i2pd ever close the stream?
    const rawClosed = Promise.race([
      once(raw, 'close').then(() => Date.now() - killed),
      sleep(90_000).then(() => -1),
    ])
    const { answer, ms } = await timed(call(alice(), 'GET', `/v1/workers/${dave}/hello`, { timeout: 90_000 }))
    assert.deepEqual([answer.status, answer.json().code], [504, 'ERR_PEER_LOST'])
    assert.ok(ms < PROBE_AFTER + PROBE_TIMEOUT + 10_000, `failed in ${ms} ms`)
    diag(`router kill -9: alice's request ${answer.status} ERR_PEER_LOST in ${ms} ms`)
    const rawMs = await rawClosed
    diag(`router kill -9: i2pd closed the raw SAM stream after ${rawMs < 0 ? 'more than 90000' : rawMs} ms`)
    raw.destroy()
  })

  /** The counts once two reads 300 ms apart agree. */
  async function settledCounts(): Promise<{ aliceOut: number; carolIn: number }> {
    let last = await requestCounts()
    for (let i = 0; i < 20; i++) {
      await sleep(300)
      const now = await requestCounts()
      if (now.aliceOut === last.aliceOut && now.carolIn === last.carolIn) return now
      last = now
    }
    return last
  }

  async function requestCounts(): Promise<{ aliceOut: number; carolIn: number }> {
    const count = async (api: Api, direction: string, peer: string): Promise<number> => {
      const text = (await call(api, 'GET', '/metrics')).body.toString('utf8')
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('prouter_peer_requests_total{') &&
            l.includes(`direction="${direction}"`) &&
            l.includes(`peer="${peer}"`),
        )
      return line === undefined ? 0 : Number(line.split(' ').at(-1))
    }
    return {
      aliceOut: await count(alice(), 'out', keyOf('carol')),
      carolIn: await count(apiOf(daemon('carol')), 'in', keyOf('alice')),
    }
  }
})

function diag(line: string): void {
  process.stdout.write(`# ${line}\n`)
}

async function timed(p: Promise<Answer>): Promise<{ answer: Answer; ms: number }> {
  const started = Date.now()
  const answer = await p
  return { answer, ms: Date.now() - started }
}

/** One request on a stream that stays open: resolves with the first bytes that come back. */
async function rawHttpKeep(stream: Socket, request: string): Promise<string> {
  stream.write(request)
  const [chunk] = (await Promise.race([
    once(stream, 'data'),
    sleep(30_000).then(() => [Buffer.alloc(0)]),
  ])) as [Buffer]
  return chunk.toString('utf8')
}

function hops(n: number) {
  return { inbound: { length: n, quantity: 2 }, outbound: { length: n, quantity: 2 } }
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
