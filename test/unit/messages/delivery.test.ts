/**
 * Sender and receiver together, over an in-memory datagram link that loses what a test tells it to, with a
 * real outbox on disk and a real HTTP service. Real i2pd: test/integration/messages.test.ts.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { before, test, type TestContext } from 'node:test'
import { cryptoWaitReady } from '@polkadot/util-crypto'
import { isPRouterError, PRouterError } from '../../../src/errors.js'
import { workerKeyFromSuri, workerKeyHex, type WorkerKeyPair } from '../../../src/identity/index.js'
import { silentLogger } from '../../../src/logger.js'
import { sleep } from '../../../src/signals.js'
import { decodeDatagram, type AckFrame } from '../../../src/messages/frames.js'
import { createOutbox, type Outbox } from '../../../src/messages/outbox.js'
import { createReassembly } from '../../../src/messages/reassembly.js'
import { createMessageReceiver, type InboundDatagram } from '../../../src/messages/receiver.js'
import { createRateLimiter } from '../../../src/proxy/limits.js'
import { createSequences } from '../../../src/messages/sequence.js'
import { createSeenIds } from '../../../src/messages/seen-ids.js'
import { createMessageSender, type MessageSender } from '../../../src/messages/sender.js'
import { createPeerLink } from '../../../src/messages/link.js'
import { createAnswerCache } from '../../../src/messages/answer-cache.js'
import { createServiceDelivery } from '../../../src/messages/service-delivery.js'
import type { DatagramTransport, MessagePeers } from '../../../src/messages/transport.js'

const logger = silentLogger()
const A = { b32: `${'a'.repeat(51)}q.b32.i2p`, destination: 'AAAA' }
const B = { b32: `${'b'.repeat(51)}q.b32.i2p`, destination: 'BBBB' }
let alice: WorkerKeyPair
let bob: WorkerKeyPair

before(async () => {
  await cryptoWaitReady()
  alice = await workerKeyFromSuri('//Alice')
  bob = await workerKeyFromSuri('//Bob')
})

interface Delivered {
  caller: string | undefined
  id: string | undefined
  body: Buffer
  seq: string | undefined
}

/** A service on 127.0.0.1:0 answering `status(n)` to the n-th message (default 204). */
async function service(t: TestContext, status: (n: number) => number = () => 204) {
  const seen: Delivered[] = []
  let n = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const code = status(n++)
      if (code < 300) {
        const caller = req.headers['x-prouter-caller'] as string | undefined
        const seq = req.headers['x-prouter-message-seq'] as string | undefined
        seen.push({
          caller,
          id: req.headers['x-prouter-message-id'] as string,
          body: Buffer.concat(chunks),
          seq,
        })
      }
      res.writeHead(code).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      }),
  )
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, seen }
}

interface Link {
  /** Return true to lose the datagram. */
  drop: (from: string, bytes: Buffer, n: number) => boolean
  /** ms a datagram takes (differing delays reorder them); default: the next turn of the event loop. */
  delay?: () => number
  sent: number
}

function endpoint(
  self: typeof A,
  peers: Map<string, (d: InboundDatagram) => void>,
  link: Link,
): DatagramTransport {
  return {
    lookup: (name) => Promise.resolve(name === A.b32 ? A.destination : B.destination),
    send: (destination, bytes) => {
      const to = destination === A.destination ? A.b32 : B.b32
      const n = link.sent++
      const copy = Buffer.from(bytes)
      if (!link.drop(self.b32, copy, n)) {
        const arrive = (): void =>
          peers.get(to)?.({ destination: self.destination, b32: self.b32, payload: copy })
        if (link.delay === undefined) setImmediate(arrive)
        else setTimeout(arrive, link.delay())
      }
      return Promise.resolve()
    },
  }
}

interface PairOptions {
  serviceStatus?: (n: number) => number
  drop?: Link['drop']
  delay?: Link['delay']
  /** What bob's PRouter reads in alice's binding. */
  aliceB32?: string
  outboxDir?: string
  /** Wraps the sender's outbox (a slow or failing disk). */
  outbox?: (real: Outbox) => Outbox
  retryMin?: number
  onStalled?: () => void
  /** Bob's message rate limit per sender. */
  rateLimit?: { perSecond: number; burst: number }
}

async function pair(t: TestContext, options: PairOptions = {}) {
  const svc = await service(t, options.serviceStatus)
  const link: Link = {
    drop: options.drop ?? (() => false),
    sent: 0,
    ...(options.delay && { delay: options.delay }),
  }
  const handlers = new Map<string, (d: InboundDatagram) => void>()
  const peers: MessagePeers = {
    datagramB32: (key) =>
      Promise.resolve(key === workerKeyHex(alice.publicKey) ? (options.aliceB32 ?? A.b32) : B.b32),
  }
  const dir = options.outboxDir ?? (await tempDir(t))
  const makeSender = (): MessageSender =>
    createMessageSender(
      { self: alice, retryMin: options.retryMin ?? 50, retryMax: 200 },
      {
        link: createPeerLink(endpoint(A, handlers, link), peers, new AbortController().signal),
        outbox: (options.outbox ?? ((o: Outbox) => o))(createOutbox({ dir }, { logger })),
        sequences: createSequences({ file: join(dir, 'sequence.json') }),
        logger,
        ...(options.onStalled === undefined ? {} : { onStalled: options.onStalled }),
      },
    )
  const sender = makeSender()
  senders.push(sender)
  const refusals: string[] = []
  const rate = options.rateLimit && createRateLimiter(options.rateLimit.perSecond, options.rateLimit.burst)
  const receiver = createMessageReceiver(
    { self: workerKeyHex(bob.publicKey), allowAnonymous: false },
    {
      transport: endpoint(B, handlers, link),
      peers,
      seen: createSeenIds(),
      reassembly: createReassembly(),
      deliver: createServiceDelivery({ serviceUrl: svc.url, path: '/messages' }),
      serve: () => Promise.reject(new Error('no requests in this test')),
      answers: createAnswerCache(),
      onAck: () => undefined,
      onRefused: (c) => refusals.push(c),
      ...(rate === undefined ? {} : { rateLimit: (from: string) => rate.take(from) }),
      logger,
    },
  )
  handlers.set(A.b32, (d) => {
    for (const ack of acksIn(d.payload)) sender.onAck(d.b32, ack)
  })
  handlers.set(B.b32, (d) => {
    receiver.onDatagram(d)
  })
  t.after(() => sender.stop())
  await sender.start()
  /** A new sender on the same outbox (after the first was stopped), taking the ACKs from now on. */
  const restartSender = async (): Promise<MessageSender> => {
    const again = makeSender()
    senders.push(again)
    handlers.set(A.b32, (d) => {
      for (const ack of acksIn(d.payload)) again.onAck(d.b32, ack)
    })
    t.after(() => again.stop())
    await again.start()
    return again
  }
  return { sender, svc, link, dir, restartSender, handlers, refusals }
}

async function messageFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.msg'))
}

/** The senders a test made: stopped (their outbox writes ended) before its folders are removed. */
const senders: MessageSender[] = []

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-msg-'))
  t.after(async () => {
    await Promise.all(senders.splice(0).map((s) => s.stop()))
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

/** The ACK frames a datagram carries (one, or a batch of them). */
function acksIn(bytes: Buffer): AckFrame[] {
  return decodeDatagram(bytes).filter((f): f is AckFrame => f.type === 'ack')
}

const bobKey = (): string => workerKeyHex(bob.publicKey)
const code = (expected: string) => (err: unknown) => isPRouterError(err) && err.code === expected

test('a message is acknowledged once the service took it, with the verified sender', async (t) => {
  const { sender, svc } = await pair(t, { retryMin: 5000 })
  const result = await sender.send(bobKey(), Buffer.from('hello'))
  assert.equal(result.status, 'delivered')
  assert.ok((result.attempts ?? 0) >= 1) // 1 unless the service took longer than the first retry
  assert.equal(svc.seen.length, 1)
  const [got] = svc.seen
  assert.equal(got?.caller, workerKeyHex(alice.publicKey))
  assert.equal(got.id, result.id)
  assert.equal(got.body.toString(), 'hello')
  assert.equal(sender.pending, 0)
})

test('lost fragments and a lost ack: retried, delivered intact, and the service sees it once', async (t) => {
  // datagrams 0 and 2 (fragments of the first try) and the first ack are lost
  let acksLost = 0
  const drop = (from: string, bytes: Buffer, n: number): boolean => {
    if (from === B.b32 && acksLost === 0) return ++acksLost > 0
    return from === A.b32 && (n === 0 || n === 2)
  }
  const { sender, svc } = await pair(t, { drop })
  const payload = randomBytes(40 * 1024) // 5 fragments
  const result = await sender.send(bobKey(), payload)
  assert.ok((result.attempts ?? 0) >= 3, `attempts ${result.attempts}`)
  assert.equal(svc.seen.length, 1)
  assert.deepEqual(svc.seen[0]?.body, payload)
})

test('once a round trip was measured, a lost message is resent after the retransmission timeout, not retryMin', async (t) => {
  let lose = false
  const drop = (from: string): boolean => {
    if (from !== A.b32 || !lose) return false
    lose = false
    return true // the next datagram alice sends, once
  }
  const { sender, svc } = await pair(t, { drop, retryMin: 60_000, delay: () => 5 })
  await sender.send(bobKey(), Buffer.from('first: measures the round trip'))
  lose = true
  const started = Date.now()
  const result = await sender.send(bobKey(), Buffer.from('second: its first datagram is lost'))
  assert.equal(result.attempts, 2)
  assert.ok(Date.now() - started < 30_000, 'resent long before the 60 s retryMin')
  assert.equal(svc.seen.length, 2)
})

test('a message sent from a destination other than the one its sender publishes is refused', async (t) => {
  const { sender, svc } = await pair(t, { aliceB32: `${'m'.repeat(51)}q.b32.i2p` })
  await assert.rejects(sender.send(bobKey(), Buffer.from('x')), code('ERR_MESSAGE_SOURCE'))
  assert.equal(svc.seen.length, 0)
})

test('a service 5xx is retried, a 4xx is final (ERR_MESSAGE_REJECTED)', async (t) => {
  const first = await pair(t, { serviceStatus: (n) => (n < 2 ? 503 : 200) })
  const result = await first.sender.send(bobKey(), Buffer.from('x'))
  assert.ok((result.attempts ?? 0) >= 3)
  assert.equal(first.svc.seen.length, 1)
  const second = await pair(t, { serviceStatus: () => 400 })
  await assert.rejects(second.sender.send(bobKey(), Buffer.from('x')), code('ERR_MESSAGE_REJECTED'))
})

test('queued messages survive a sender restart and are delivered once the receiver is back', async (t) => {
  let receiverUp = false
  const drop = (): boolean => !receiverUp
  const first = await pair(t, { drop })
  const queued = await Promise.all(
    [1, 2, 3].map((n) => first.sender.send(bobKey(), Buffer.from(`m${n}`), { wait: false })),
  )
  assert.deepEqual(
    queued.map((r) => r.status),
    ['queued', 'queued', 'queued'],
  )
  await assert.rejects(
    first.sender.send(bobKey(), Buffer.from('m4'), { timeout: 150 }),
    code('ERR_MESSAGE_TIMEOUT'),
  )
  await first.sender.stop() // the "crash": nothing acknowledged yet
  receiverUp = true
  const again = await first.restartSender()
  for (let i = 0; i < 100 && first.svc.seen.length < 4; i++) await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual(first.svc.seen.map((s) => s.body.toString()).sort(), ['m1', 'm2', 'm3', 'm4'])
  for (let i = 0; i < 100 && again.pending > 0; i++) await new Promise((r) => setTimeout(r, 20))
  assert.equal(again.pending, 0, 'all acknowledged: the outbox is empty')
})

test('an acknowledged message goes out while its outbox write is pending; its file goes only after the write', async (t) => {
  const disk = { written: 0 }
  const written = (): number => disk.written // read anew each time (the write ends meanwhile)
  const slow = (real: Outbox): Outbox => ({
    ...real,
    put: async (entry) => {
      await new Promise((r) => setTimeout(r, 300))
      await real.put(entry)
      disk.written = performance.now()
    },
  })
  const { sender, svc, dir } = await pair(t, { outbox: slow })
  const result = await sender.send(bobKey(), Buffer.from('fast'))
  const acknowledged = performance.now()
  assert.equal(result.status, 'delivered')
  assert.equal(svc.seen.length, 1)
  assert.equal(written(), 0, 'delivered and acknowledged before the 300 ms write ended')
  for (let i = 0; i < 100 && (written() === 0 || (await messageFiles(dir)).length > 0); i++) await sleep(10)
  assert.ok(written() > acknowledged)
  assert.deepEqual(await messageFiles(dir), [], 'removed once written, not left behind by the late write')
})

test('stop() resolves only once the outbox writes and removals under way have ended', async (t) => {
  const disk = { writing: 0 }
  const slow = (real: Outbox): Outbox => ({
    ...real,
    put: async (entry) => {
      disk.writing++
      await new Promise((r) => setTimeout(r, 300))
      await real.put(entry)
      disk.writing--
    },
  })
  const { sender, dir } = await pair(t, { outbox: slow })
  assert.equal((await sender.send(bobKey(), Buffer.from('fast'))).status, 'delivered')
  assert.equal(disk.writing, 1, 'acknowledged while its write is under way')
  await sender.stop()
  assert.equal(disk.writing, 0, 'the write ended before stop() resolved')
  assert.deepEqual(await messageFiles(dir), [], 'and the delivered message was removed after it')
})

test('a failed outbox write: an acknowledged send still succeeds, a timed-out one reports the write, a queued one sends nothing', async (t) => {
  const diskFull = (real: Outbox): Outbox => ({
    ...real,
    put: () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })),
  })
  let receiverUp = true
  const sent: string[] = []
  const drop = (_from: string, bytes: Buffer): boolean => {
    sent.push(bytes.toString('latin1'))
    return !receiverUp
  }
  const { sender, svc } = await pair(t, { outbox: diskFull, drop })
  assert.equal((await sender.send(bobKey(), Buffer.from('acked'))).status, 'delivered')
  receiverUp = false
  await assert.rejects(sender.send(bobKey(), Buffer.from('lost'), { timeout: 150 }), /no space left/)
  await assert.rejects(sender.send(bobKey(), Buffer.from('queued'), { wait: false }), /no space left/)
  await sleep(100)
  assert.ok(!sent.some((d) => d.includes('queued')), 'a queued message that is not on disk is not sent')
  assert.deepEqual(
    svc.seen.map((s) => s.body.toString()),
    ['acked'],
  )
})

test('a full outbox refuses a message before anything is sent (ERR_MESSAGE_OUTBOX_FULL)', async (t) => {
  const small = (real: Outbox): Outbox => {
    let held = 0
    return {
      ...real,
      checkRoom: () => {
        if (held >= 1) throw new PRouterError('ERR_MESSAGE_OUTBOX_FULL', 'the outbox holds 1 message')
      },
      put: async (entry) => {
        held++
        await real.put(entry)
      },
    }
  }
  const sent: string[] = []
  const drop = (_from: string, bytes: Buffer): boolean => sent.push(bytes.toString('latin1')) > 0
  const { sender } = await pair(t, { outbox: small, drop })
  await sender.send(bobKey(), Buffer.from('first'), { wait: false })
  await assert.rejects(sender.send(bobKey(), Buffer.from('second')), code('ERR_MESSAGE_OUTBOX_FULL'))
  await sleep(100)
  assert.ok(sent.some((d) => d.includes('first')))
  assert.ok(!sent.some((d) => d.includes('second')), 'the refused message never left')
})

test('an oversized payload is ERR_MESSAGE_TOO_LARGE before anything is written', async (t) => {
  const { sender } = await pair(t)
  await assert.rejects(sender.send(bobKey(), Buffer.alloc(64 * 1024 + 1)), code('ERR_MESSAGE_TOO_LARGE'))
  assert.ok(new PRouterError('ERR_MESSAGE_TOO_LARGE', 'x'))
})

test('a delivery that goes unacknowledged for 5 sends tells its owner once (to renew the session)', async (t) => {
  let stalled = 0
  let lose = true
  const { sender, svc } = await pair(t, {
    drop: () => lose,
    retryMin: 10,
    onStalled: () => {
      stalled++
      lose = false
    },
  })
  const result = await sender.send(bobKey(), Buffer.from('late'))
  assert.equal(stalled, 1)
  assert.ok((result.attempts ?? 0) >= 6, `attempts ${result.attempts}`)
  assert.equal(svc.seen.length, 1)
})

test('a sender over its message rate is answered busy and retries: every message once, no faster than the rate', async (t) => {
  const { sender, svc, refusals } = await pair(t, { rateLimit: { perSecond: 20, burst: 5 }, retryMin: 100 })
  const t0 = performance.now()
  const sent = await Promise.all(
    Array.from({ length: 25 }, (_, n) => sender.send(bobKey(), Buffer.from(`m${n}`), { wait: false })),
  )
  for (let i = 0; i < 200 && sender.pending > 0; i++) await new Promise((r) => setTimeout(r, 50))
  const took = performance.now() - t0
  assert.equal(sender.pending, 0, 'every message acknowledged in the end')
  assert.deepEqual(svc.seen.map((s) => s.id).sort(), sent.map((s) => s.id).sort(), 'each one once')
  assert.ok(
    took >= ((25 - 5) / 20) * 1000,
    `25 messages at 20/s after a burst of 5 took ${Math.round(took)} ms`,
  )
  assert.ok(refusals.includes('ERR_RATE_LIMITED'), 'the receiver answered busy')
  assert.ok(refusals.every((c) => c === 'ERR_RATE_LIMITED'))
})

test('ordered messages reach the service in their order, numbered, over a link that loses and reorders', async (t) => {
  let seed = 11
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647
  const { sender, svc } = await pair(t, {
    drop: () => random() < 0.2,
    delay: () => random() * 30,
    retryMin: 40,
  })
  const sent = await Promise.all(
    Array.from({ length: 30 }, (_, n) =>
      sender.send(bobKey(), Buffer.from(`o${n}`), { wait: false, ordered: true }),
    ),
  )
  const loose = await Promise.all(
    Array.from({ length: 30 }, (_, n) => sender.send(bobKey(), Buffer.from(`u${n}`), { wait: false })),
  )
  for (let i = 0; i < 400 && sender.pending > 0; i++) await new Promise((r) => setTimeout(r, 50))
  assert.equal(sender.pending, 0, 'every message acknowledged')
  const ordered = svc.seen.filter((s) => s.body.toString().startsWith('o'))
  assert.deepEqual(
    ordered.map((s) => s.body.toString()),
    sent.map((_, n) => `o${n}`),
    'in the order they were sent',
  )
  assert.deepEqual(
    ordered.map((s) => s.seq),
    sent.map((_, n) => String(n + 1)),
    'numbered 1, 2, 3 …',
  )
  const unordered = svc.seen.filter((s) => s.body.toString().startsWith('u'))
  assert.equal(unordered.length, loose.length)
  assert.ok(
    unordered.every((s) => s.seq === undefined),
    'unordered ones carry no number',
  )
  assert.notDeepEqual(
    unordered.map((s) => s.body.toString()),
    loose.map((_, n) => `u${n}`),
    "the link does reorder (so the order above is the sender's doing)",
  )
})

test('ordered messages keep their order when their outbox writes end in the reverse order', async (t) => {
  let writes = 0
  const reversing = (real: Outbox): Outbox => ({
    ...real,
    put: async (entry) => {
      const late = 200 - 20 * writes++ // the first write ends last
      await real.put(entry)
      await sleep(Math.max(0, late))
    },
  })
  const { sender, svc } = await pair(t, { outbox: reversing })
  await Promise.all(
    Array.from({ length: 8 }, (_, n) =>
      sender.send(bobKey(), Buffer.from(`r${n}`), { wait: n % 2 === 0, ordered: true }),
    ),
  )
  for (let i = 0; i < 100 && sender.pending > 0; i++) await sleep(20)
  assert.deepEqual(
    svc.seen.map((s) => s.body.toString()),
    Array.from({ length: 8 }, (_, n) => `r${n}`),
  )
})

test('ordered messages queued before a sender restart keep their order and numbers; the next number follows', async (t) => {
  let receiverUp = false
  const first = await pair(t, { drop: () => !receiverUp, delay: () => Math.random() * 20 })
  for (const n of [1, 2, 3, 4]) {
    await first.sender.send(bobKey(), Buffer.from(`o${n}`), { wait: false, ordered: true })
  }
  await first.sender.stop() // the "crash": nothing acknowledged yet
  receiverUp = true
  const again = await first.restartSender()
  const fifth = await again.send(bobKey(), Buffer.from('o5'), { ordered: true })
  assert.equal(fifth.status, 'delivered')
  assert.deepEqual(
    first.svc.seen.map((s) => [s.body.toString(), s.seq]),
    [1, 2, 3, 4, 5].map((n) => [`o${n}`, String(n)]),
  )
})

test('1,000 queued messages with 10% of datagrams lost: each at the service exactly once', async (t) => {
  let seed = 7
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647
  const { sender, svc } = await pair(t, { drop: () => random() < 0.1 })
  const sent = await Promise.all(
    Array.from({ length: 1000 }, (_, n) => sender.send(bobKey(), Buffer.from(`m${n}`), { wait: false })),
  )
  for (let i = 0; i < 600 && sender.pending > 0; i++) await new Promise((r) => setTimeout(r, 50))
  assert.equal(sender.pending, 0, 'every message acknowledged')
  const ids = svc.seen.map((s) => s.id)
  assert.equal(ids.length, 1000)
  assert.equal(new Set(ids).size, 1000)
  assert.deepEqual(new Set(ids), new Set(sent.map((s) => s.id)))
})
