/**
 * Messages between workers on real i2pd routers (run isolated: scripts/isolated.sh). One network for the
 * file: the 4-router testnet, the local registry, alice and bob with their own routers and messages enabled;
 * bob's service records what it is handed. An attacker holds a datagram session of its own on the testnet.

 */
import { after, before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWorkerNet, type WorkerNet } from '../../src/testnet/workers.js'
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js'
import { loadDaemonConfig } from '../../src/daemon/config.js'
import { DATAGRAM_DESTINATION_LABEL, deriveDestinationKeys } from '../../src/i2p/index.js'
import { loadKeyStore, workerKeyFromSuri } from '../../src/identity/index.js'
import { signMessage } from '../../src/messages/envelope.js'
import { decodeFrame, fragment, type AckFrame, type AnswerFrame } from '../../src/messages/frames.js'
import { decodeWireAnswer, encodeRequest } from '../../src/messages/request-wire.js'
import { createSamDatagramSession, type SamDatagramSession } from '../../src/sam/index.js'
import { sleep } from '../../src/signals.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'
import { apiOf, call, type Answer } from '../helpers/daemon-client.js'

const logger = testLogger()

interface Received {
  caller: string
  id: string
  body: Buffer
  /** x-prouter-message-seq, for ordered messages. */
  seq: string | undefined
}

/** What bob's service saw of a request (not a message): who called, from where, and how often per test id. */
interface Served {
  caller: string
  address: string
  testId: string
}

/**
 * Requests under /rpc/: `echo` answers the body back with who called; `big?bytes=N` answers N bytes (a
 * pattern); each records who called it and its `x-test-id`.
 */
function rpc(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, served: Served[]): void {
  const header = (name: string): string => String(req.headers[name])
  served.push({
    caller: header('x-prouter-caller'),
    address: header('x-prouter-caller-address'),
    testId: header('x-test-id'),
  })
  const url = new URL(req.url ?? '/', 'http://service')
  const answer =
    url.pathname === '/rpc/big' ? pattern(Number(url.searchParams.get('bytes'))) : Buffer.from(body)
  res.writeHead(200, {
    'content-length': answer.length,
    'x-caller': header('x-prouter-caller'),
    'x-caller-address': header('x-prouter-caller-address'),
  })
  res.end(answer)
}

function pattern(bytes: number): Buffer {
  return Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 7 + 3) % 251))
}

/** Bob's service: records each message; answers 503 while `down`. */
async function recordingService() {
  const received: Received[] = []
  const served: Served[] = []
  const state = { down: false }
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => {
      if (req.url?.startsWith('/rpc/') === true) {
        rpc(req, Buffer.concat(parts), res, served)
        return
      }
      if (state.down || req.url !== '/prouter/messages') {
        res.writeHead(503).end()
        return
      }
      const header = (name: string): string => String(req.headers[name])
      received.push({
        caller: header('x-prouter-caller'),
        id: header('x-prouter-message-id'),
        body: Buffer.concat(parts),
        seq: req.headers['x-prouter-message-seq'] as string | undefined,
      })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => {
        resolve()
      })
      server.closeAllConnections()
    })
  return { url: `http://127.0.0.1:${port}`, received, served, state, close }
}

describe('messages between workers on a private network', { timeout: 20 * 60_000 }, () => {
  let net: WorkerNet
  let dir: string
  let svc: Awaited<ReturnType<typeof recordingService>>
  let attacker: SamDatagramSession
  const acks: AckFrame[] = []
  const answers: AnswerFrame[] = []
  const restarted = new Map<string, Daemon>()
  const daemon = (name: string): Daemon => {
    const d = restarted.get(name) ?? net.worker(name).daemon
    assert.ok(d)
    return d
  }
  const key = (name: string): string => net.worker(name).workerKey
  const send = (from: string, to: string, body: Buffer, query = ''): Promise<Answer> =>
    call(apiOf(daemon(from)), 'POST', `/v1/messages/${key(to)}${query}`, { body, timeout: 120_000 })
  const startAgain = async (name: string): Promise<void> => {
    const again = await createDaemon(await loadDaemonConfig({ flags: net.worker(name).input }), { logger })
    restarted.set(name, again)
    await again.start()
  }
  const seenIds = (): string[] => svc.received.map((r) => r.id)
  /**
   * Until the test ends, drop a tenth of the UDP datagrams between both daemons and their SAM bridges, silently,
   * on the way in (nftables, in the test's own network namespace): fragments, ACKs and the bridges' forwards.
   */
  const dropATenth = async (t: TestContext): Promise<void> => {
    const ports = ['alice', 'bob'].map((n) => daemon(n).router.sam.port - 1).join(', ')
    await nft(`add table inet prouter_loss
add chain inet prouter_loss in { type filter hook input priority 0 ; }
add rule inet prouter_loss in udp dport { ${ports} } numgen random mod 10 == 0 counter drop
add rule inet prouter_loss in udp sport { ${ports} } numgen random mod 10 == 0 counter drop`)
    t.after(() => nft('delete table inet prouter_loss'))
  }
  const until = async (what: string, check: () => boolean, timeout = 120_000): Promise<void> => {
    const deadline = Date.now() + timeout
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`${what}: not within ${timeout} ms`)
      await sleep(100)
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-messages-'))
    svc = await recordingService()
    const messages = { enabled: true }
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [
          { name: 'alice', suri: '//Alice', router: 'managed', config: { messages } },
          {
            name: 'bob',
            suri: '//Bob',
            router: 'managed',
            config: {
              messages,
              service: { url: svc.url },
              inbound: { allowPaths: ['/rpc/*'], allowAnonymous: false },
            },
          },
        ],
      },
      { logger },
    )
    attacker = await createSamDatagramSession(
      {
        sam: net.testnet.state.routers[1]?.sam ?? { host: '', port: 0 },
        tunnels: { inbound: { length: 1 }, outbound: { length: 1 } },
      },
      {
        logger,
        onDatagram: (d) => {
          const frame = decodeFrame(d.payload)
          if (frame.type === 'ack') acks.push(frame)
          if (frame.type === 'answer') answers.push(frame)
        },
      },
    )
  })
  after(async () => {
    attacker.destroy()
    for (const d of restarted.values()) await d.stop()
    await net.destroy()
    await svc.close()
    await rm(dir, { recursive: true, force: true })
  })

  test("a message is acknowledged once bob's service took it, with alice as the verified caller", async (t) => {
    const started = Date.now()
    const res = await send('alice', 'bob', Buffer.from('hello bob'))
    assert.equal(res.status, 200, res.body.toString())
    const answer = res.json()
    t.diagnostic(
      `first message acknowledged after ${Date.now() - started} ms, ${String(answer.attempts)} sends`,
    )
    assert.equal(answer.status, 'delivered')
    const got = svc.received.find((r) => r.id === answer.id)
    assert.ok(got)
    assert.equal(got.caller, key('alice'))
    assert.equal(got.body.toString(), 'hello bob')
    assert.equal(seenIds().filter((id) => id === answer.id).length, 1)
  })

  test('a 60 KiB message crosses in fragments, byte for byte; 64 KiB + 1 is refused with 413', async () => {
    const body = randomBytes(60 * 1024)
    const res = await send('alice', 'bob', body)
    assert.equal(res.status, 200, res.body.toString())
    const got = svc.received.find((r) => r.id === res.json().id)
    assert.deepEqual(got?.body, body)
    const tooBig = await send('alice', 'bob', Buffer.alloc(64 * 1024 + 1))
    assert.equal(tooBig.status, 413)
    assert.equal(tooBig.json().code, 'ERR_MESSAGE_TOO_LARGE')
  })

  test("while bob's service answers 503 nothing is acknowledged; once it is back the message arrives once", async () => {
    svc.state.down = true
    const pending = send('alice', 'bob', Buffer.from('retry me'))
    await sleep(4000)
    const before = svc.received.length
    svc.state.down = false
    const res = await pending
    assert.equal(res.status, 200, res.body.toString())
    const answer = res.json()
    assert.ok(Number(answer.attempts) >= 2, `sent ${String(answer.attempts)} times`)
    assert.equal(seenIds().filter((id) => id === answer.id).length, 1, 'delivered once')
    assert.equal(svc.received.length, before + 1)
  })

  test('forged, misrouted and replayed messages are refused with their codes and never reach the service', async () => {
    const keys = await loadKeyStore(daemon('bob').config.keysDir)
    const bobDatagram = deriveDestinationKeys(keys.i2p.privateKey, DATAGRAM_DESTINATION_LABEL)
    const destination = await attacker.lookup(bobDatagram.b32, { timeout: 60_000 })
    const alice = await workerKeyFromSuri('//Alice')
    const mallory = await workerKeyFromSuri('//Mallory')
    const cases: [string, Buffer][] = [
      // signed by alice's key, but sent from the attacker's destination, not alice's
      ['ERR_MESSAGE_SOURCE', signMessage(alice, { receiver: key('bob'), payload: Buffer.from('a') })],
      // mallory's signature with alice named as the sender
      [
        'ERR_MESSAGE_SIGNATURE',
        forge(signMessage(mallory, { receiver: key('bob'), payload: Buffer.from('b') }), alice.publicKey),
      ],
      // an old message (replayed after its window)
      [
        'ERR_MESSAGE_TIME',
        signMessage(alice, { receiver: key('bob'), payload: Buffer.from('c'), time: Date.now() - 3_600_000 }),
      ],
    ]
    const before = svc.received.length
    for (const [code, wire] of cases) {
      const id = wire.toString('hex', 83, 99)
      // sent again every 2 s until an answer comes: datagrams sent before a LeaseSet is known are lost
      const deadline = Date.now() + 90_000
      while (!acks.some((a) => a.id === id) && Date.now() < deadline) {
        for (const frame of fragment(id, wire)) await attacker.send(destination, frame)
        await until('an ack', () => acks.some((a) => a.id === id), 2000).catch(() => undefined)
      }
      const ack = acks.find((a) => a.id === id)
      assert.equal(ack?.status, 'refused', code)
      assert.equal(ack.code, code)
    }
    assert.equal(svc.received.length, before, 'the service saw none of them')
  })

  const rpcCall = (path: string, options: { body?: Buffer; testId?: string; method?: string } = {}) =>
    call(apiOf(daemon('alice')), options.method ?? 'POST', `/v1/workers/${key('bob')}${path}`, {
      ...(options.body === undefined ? {} : { body: options.body }),
      headers: { 'x-test-id': options.testId ?? randomBytes(8).toString('hex') },
      timeout: 120_000,
    })
  const datagramB32 = async (name: string): Promise<string> => {
    const keys = await loadKeyStore(daemon(name).config.keysDir)
    return deriveDestinationKeys(keys.i2p.privateKey, DATAGRAM_DESTINATION_LABEL).b32
  }
  const servedTimes = (testId: string): number => svc.served.filter((s) => s.testId === testId).length
  /** The attacker sends `wire` to bob's datagram destination every 2 s until `answered` (lost before LeaseSets are known). */
  const attack = async (wire: Buffer, answered: (id: string) => boolean): Promise<void> => {
    const destination = await attacker.lookup(await datagramB32('bob'), { timeout: 60_000 })
    const id = wire.toString('hex', 83, 99)
    const deadline = Date.now() + 90_000
    while (!answered(id) && Date.now() < deadline) {
      for (const frame of fragment(id, wire)) await attacker.send(destination, frame)
      await until('an answer', () => answered(id), 2000).catch(() => undefined)
    }
  }

  test("a small request crosses over datagrams: bob's service sees alice as its caller, from her datagram address, once", async (t) => {
    const body = randomBytes(1024)
    const res = await rpcCall('/rpc/echo', { body, testId: 'small-1' })
    assert.equal(res.status, 200, res.body.toString())
    assert.deepEqual(res.body, body)
    assert.equal(res.headers['x-caller'], key('alice'))
    assert.equal(res.headers['x-caller-address'], await datagramB32('alice'))
    assert.equal(servedTimes('small-1'), 1)
    const ms: number[] = []
    for (let i = 0; i < 21; i++) {
      const started = performance.now()
      assert.equal((await rpcCall('/rpc/echo', { body: Buffer.from('x') })).status, 200)
      ms.push(performance.now() - started)
    }
    ms.sort((a, b) => a - b)
    t.diagnostic(
      `warm requests over datagrams, one at a time: p50 ${ms[10]?.toFixed(1)} ms, max ${ms[20]?.toFixed(1)} ms`,
    )
  })

  test('an answer longer than one frame is fetched over a stream, whole; a body longer than a datagram goes by stream', async () => {
    const big = await rpcCall('/rpc/big?bytes=300000', { method: 'GET', testId: 'big-1' })
    assert.equal(big.status, 200, big.body.subarray(0, 200).toString())
    assert.ok(big.body.equals(pattern(300_000)), 'the long answer arrived byte for byte')
    assert.equal(servedTimes('big-1'), 1)
    assert.equal(svc.served.find((s) => s.testId === 'big-1')?.address, await datagramB32('alice'))
    const body = randomBytes(20 * 1024)
    const res = await rpcCall('/rpc/echo', { body, testId: 'by-stream' })
    assert.equal(res.status, 200)
    assert.ok(res.body.equals(body))
    assert.equal(res.headers['x-caller-address'], daemon('alice').b32, 'a 20 KiB body went by stream')
  })

  test("bob's policy holds over datagrams: a path he does not serve is refused with its code", async () => {
    const res = await rpcCall('/admin', { method: 'GET', testId: 'admin' })
    assert.equal(res.status, 403)
    assert.equal(res.json().code, 'ERR_PATH_NOT_ALLOWED')
    assert.equal(servedTimes('admin'), 0)
  })

  test('requests over datagrams: forged or relabelled ones are refused, an anonymous one is answered 403; none is served', async () => {
    const alice = await workerKeyFromSuri('//Alice')
    const mallory = await workerKeyFromSuri('//Mallory')
    const request = (testId: string): Buffer =>
      encodeRequest({
        method: 'POST',
        target: '/rpc/echo',
        headers: [['x-test-id', testId]],
        body: Buffer.from('x'),
      })
    const acked = (id: string): boolean => acks.some((a) => a.id === id)
    // signed by alice's key, sent from the attacker's destination
    const forged = signMessage(alice, { receiver: key('bob'), payload: request('forged'), kind: 'request' })
    await attack(forged, acked)
    const refusal = acks.find((a) => a.id === forged.toString('hex', 83, 99))
    assert.equal(refusal?.status, 'refused')
    assert.equal(refusal.code, 'ERR_MESSAGE_SOURCE')
    // a message of alice's relabelled as a request: the domain is signed
    const relabelled = signMessage(alice, { receiver: key('bob'), payload: request('relabelled') })
    relabelled.write('prouter-request-v1:', 0, 'latin1')
    await attack(relabelled, acked)
    assert.equal(acks.find((a) => a.id === relabelled.toString('hex', 83, 99))?.code, 'ERR_MESSAGE_SIGNATURE')
    // mallory has no binding: anonymous, which bob does not serve — an answer, as a stream would carry it
    const anonymous = signMessage(mallory, {
      receiver: key('bob'),
      payload: request('anonymous'),
      kind: 'request',
    })
    await attack(anonymous, (id) => answers.some((a) => a.id === id))
    const answer = answers.find((a) => a.id === anonymous.toString('hex', 83, 99))
    assert.ok(answer)
    const decoded = decodeWireAnswer(answer.bytes)
    assert.equal(decoded.status, 403)
    assert.equal((JSON.parse(decoded.body.toString()) as { code: string }).code, 'ERR_ANONYMOUS_REFUSED')
    for (const id of ['forged', 'relabelled', 'anonymous']) assert.equal(servedTimes(id), 0, id)
  })

  test('a tenth of the datagrams dropped (nftables): 60 requests over datagrams are all answered, each served once', async (t) => {
    await dropATenth(t)
    const ids = Array.from({ length: 60 }, (_, n) => `lossy-${n}`)
    for (let i = 0; i < ids.length; i += 10) {
      const group = ids.slice(i, i + 10)
      const answered = await Promise.all(
        group.map((id) => rpcCall('/rpc/echo', { body: Buffer.from(id), testId: id })),
      )
      for (const [j, res] of answered.entries()) {
        assert.equal(res.status, 200, res.body.toString())
        assert.equal(res.body.toString(), group[j])
      }
    }
    for (const id of ids) assert.equal(servedTimes(id), 1, id)
  })

  test('a tenth of the datagrams between the daemons and their routers dropped (nftables): every message arrives once', async (t) => {
    await dropATenth(t)
    const bodies = Array.from({ length: 30 }, (_, n) => Buffer.from(`through loss ${n}`))
    const answers = []
    for (const body of bodies) answers.push(await send('alice', 'bob', body, '?timeout=120000')) // a datagram each
    const dropped = (await nft('list table inet prouter_loss')).match(/packets \d+/g) ?? []
    const attempts = answers.map((a) => Number(a.json().attempts))
    t.diagnostic(
      `dropped (to bridges, from bridges): ${dropped.join(', ')}; sends per message: ${attempts.join(' ')}`,
    )
    for (const [n, a] of answers.entries()) {
      assert.equal(a.status, 200, a.body.toString())
      const id = String(a.json().id)
      const got = svc.received.filter((r) => r.id === id)
      assert.equal(got.length, 1, `message ${n} delivered once`)
      assert.deepEqual(got[0]?.body, bodies[n])
      assert.equal(got[0]?.caller, key('alice'))
    }
    assert.ok(Number(dropped[0]?.slice(8)) > 0, 'datagrams were dropped')
    assert.ok(
      attempts.some((n) => n > 1),
      'some messages needed a resend',
    )
  })

  test('ordered messages queued at once arrive in their order, numbered, through the same loss', async (t) => {
    await dropATenth(t)
    const started = Date.now()
    const ids: string[] = []
    for (let n = 1; n <= 10; n++) {
      const res = await send('alice', 'bob', Buffer.from(`in order ${n}`), '?mode=queued&ordered=true')
      assert.equal(res.status, 202, res.body.toString())
      ids.push(String(res.json().id))
    }
    await until('the ordered messages', () => ids.every((id) => seenIds().includes(id)), 180_000)
    t.diagnostic(`10 ordered messages at the service ${Date.now() - started} ms after the first was queued`)
    const got = svc.received.filter((r) => ids.includes(r.id))
    assert.deepEqual(
      got.map((r) => [r.body.toString(), r.seq]),
      ids.map((_, i) => [`in order ${i + 1}`, String(i + 1)]),
    )
  })

  test('1,000 messages queued in a burst: each at the service once', async (t) => {
    const started = Date.now()
    const ids: string[] = []
    let next = 0
    const client = async (): Promise<void> => {
      for (let n = next++; n < 1000; n = next++) {
        const res = await send('alice', 'bob', Buffer.from(`burst ${n}`), '?mode=queued')
        assert.equal(res.status, 202, res.body.toString())
        ids.push(String(res.json().id))
      }
    }
    await Promise.all(Array.from({ length: 16 }, client))
    const queued = Date.now() - started
    const wanted = new Set(ids)
    const arrived = (): number => svc.received.filter((r) => wanted.has(r.id)).length
    await until('the burst', () => arrived() >= 1000, 300_000)
    t.diagnostic(`1,000 queued in ${queued} ms, all at the service after ${Date.now() - started} ms`)
    await sleep(2000) // a late duplicate would show now
    const got = svc.received.filter((r) => wanted.has(r.id)).map((r) => r.id)
    assert.equal(got.length, 1000, 'none twice')
    assert.equal(new Set(got).size, 1000, 'none lost')
  })

  test('bob down, alice restarted with messages queued: all delivered once after bob returns', async (t) => {
    await daemon('bob').stop()
    const bodies = [1, 2, 3, 4, 5].map((n) => Buffer.from(`queued ${n}`))
    const ids: string[] = []
    for (const body of bodies) {
      const res = await send('alice', 'bob', body, '?mode=queued')
      assert.equal(res.status, 202, res.body.toString())
      ids.push(String(res.json().id))
    }
    await sleep(3000) // sent into the void meanwhile
    await daemon('alice').stop() // nothing was acknowledged: all of it is in alice's outbox
    await startAgain('alice')
    const back = Date.now()
    await startAgain('bob')
    await until('the queued messages', () => ids.every((id) => seenIds().includes(id)), 180_000)
    t.diagnostic(`delivered ${Date.now() - back} ms after bob's daemon was started again`)
    for (const id of ids) assert.equal(seenIds().filter((x) => x === id).length, 1, `${id} once`)
  })

  test("bob's router frozen (SIGSTOP): a request over datagrams fails with ERR_PEER_LOST in seconds; answered again once it runs", async (t) => {
    const { pid } = await daemon('bob').router.status()
    assert.ok(pid !== undefined)
    assert.equal((await rpcCall('/rpc/echo', { body: Buffer.from('before') })).status, 200)
    process.kill(pid, 'SIGSTOP')
    let frozen = true
    /** Its daemon may have replaced a router that stopped answering: then the PID is gone. */
    const resume = (): void => {
      if (!frozen) return
      frozen = false
      try {
        process.kill(pid, 'SIGCONT')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
      }
    }
    t.after(resume)
    const started = Date.now()
    const lost = await rpcCall('/rpc/echo', { body: Buffer.from('frozen'), testId: 'frozen' })
    const ms = Date.now() - started
    t.diagnostic(`answered ${lost.status} after ${ms} ms`)
    assert.equal(lost.status, 504, lost.body.toString())
    assert.equal(lost.json().code, 'ERR_PEER_LOST')
    assert.ok(ms < 30_000, `${ms} ms`)
    resume()
    const deadline = Date.now() + 120_000
    let again = await rpcCall('/rpc/echo', { body: Buffer.from('after') })
    while (again.status !== 200 && Date.now() < deadline) {
      await sleep(2000)
      again = await rpcCall('/rpc/echo', { body: Buffer.from('after') })
    }
    assert.equal(again.status, 200, again.body.toString())
    assert.ok(servedTimes('frozen') <= 1)
  })
})

/** Run `nft` with `script` on its standard input (the test's own network namespace); resolves with its output. */
function nft(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], (err, stdout) => {
      if (err !== null) reject(new Error(`nft failed: ${err.message}`, { cause: err }))
      else resolve(stdout)
    })
    child.stdin?.end(script)
  })
}

/** The bytes with another sender key written over the real one (the signature no longer matches). */
function forge(wire: Buffer, sender: Uint8Array): Buffer {
  const copy = Buffer.from(wire)
  copy.set(sender, 19)
  return copy
}
