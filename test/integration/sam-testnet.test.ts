/**
 * The SAM client against real i2pd routers on a private testnet (run isolated: see scripts/isolated.sh).
 * One testnet for the file: 5 routers, 2 floodfills, the last one unreachable (no published address).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { createTestnet } from '../../src/testnet/index.js'
import type { Testnet, RouterRecord } from '../../src/testnet/index.js'
import { b32FromDestination, createSamSession, generateDestination } from '../../src/sam/index.js'
import type { SamSession } from '../../src/sam/index.js'
import { readExactly } from '../../src/testnet/measure.js'
import { isPRouterError } from '../../src/errors.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const logger = testLogger()
const tunnels = { inbound: { length: 1, quantity: 2 }, outbound: { length: 1, quantity: 2 } }

describe('SAM client on a private testnet', { timeout: 10 * 60_000 }, () => {
  let net: Testnet
  const sessions: SamSession[] = []
  const router = (i: number): RouterRecord => {
    const r = net.state.routers.at(i)
    assert.ok(r)
    return r
  }
  const open = async (rec: RouterRecord): Promise<SamSession> => {
    const s = await createSamSession({ sam: rec.sam, tunnels }, { logger })
    sessions.push(s)
    return s
  }

  let dir: string
  before(async () => {
    // removed in after(), not by a hook registered here: a router restarted mid-suite re-reads its folder
    dir = await mkdtemp(join(tmpdir(), 'prouter-sam-'))
    net = await createTestnet({ dir, binary: await testBinary(), routers: 5, unreachable: 1 }, { logger })
  })
  after(async () => {
    for (const s of sessions) s.destroy()
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('two destinations on different routers exchange data both ways', async () => {
    const [alice, bob] = await Promise.all([open(router(0)), open(router(2))])
    const accepted = bob.accept()
    const out = await alice.connect(bob.destination)
    const { stream: inbound, peerDestination } = await accepted
    assert.equal(peerDestination, alice.destination, 'the acceptor learns who called')
    const hello = randomBytes(5000)
    const reply = randomBytes(7000)
    out.write(hello)
    assert.deepEqual(await readExactly(inbound, hello.length), hello)
    inbound.write(reply)
    assert.deepEqual(await readExactly(out, reply.length), reply)
    out.destroy()
    inbound.destroy()
  })

  test('a destination on an unreachable router is reached from another router', async () => {
    const hidden = router(-1)
    assert.equal(hidden.reachable, false)
    const [caller, callee] = await Promise.all([open(router(1)), open(hidden)])
    const accepted = callee.accept()
    const out = await caller.connect(callee.destination)
    const { stream } = await accepted
    stream.pipe(stream)
    const probe = randomBytes(1024)
    out.write(probe)
    assert.deepEqual(await readExactly(out, probe.length), probe)
    out.destroy()
  })

  test('50 concurrent streams on one session', async () => {
    const [client, server] = await Promise.all([open(router(3)), open(router(0))])
    // the server's LeaseSet, just published, may not have reached the floodfills yet: known first, then 50 at once
    // (a fresh 4-router testnet has taken over 10 s to make it findable: up to 30 s)
    await eventually(() => client.lookup(server.b32), 30)
    const served = serveEcho(server, 50)
    const payloads = Array.from({ length: 50 }, (_, i) => randomBytes(256 + i))
    const results = await Promise.all(
      payloads.map(async (p) => {
        const s = await client.connect(server.destination)
        s.write(p)
        const back = await readExactly(s, p.length)
        s.destroy()
        return back
      }),
    )
    assert.deepEqual(results, payloads)
    await served
  })

  test('DEST GENERATE gives a persistent destination; NAMING LOOKUP resolves ME and a peer b32', async () => {
    const generated = await generateDestination(router(1).sam)
    assert.equal(b32FromDestination(generated.destination), generated.b32)
    const persistent = await createSamSession(
      { sam: router(1).sam, destination: generated.privateKey, tunnels },
      { logger },
    )
    sessions.push(persistent)
    assert.equal(persistent.destination, generated.destination, 'the session uses the given keys')
    assert.equal(await persistent.lookup('ME'), generated.destination)
    const peer = await open(router(3))
    // A LeaseSet just published may not have reached the floodfills yet: a few bounded tries.
    const resolved = await eventually(() => persistent.lookup(peer.b32), 10)
    assert.equal(resolved, peer.destination, 'a peer b32 resolves through its LeaseSet')
    // With the address book off (as PRouter runs i2pd) a host name is no key at all: INVALID_KEY.
    await assert.rejects(persistent.lookup('nosuchname.i2p'), (err: unknown) =>
      isPRouterError(err, 'ERR_SAM_INVALID_KEY'),
    )
  })

  test('a session on a router that was stopped fails with a typed error', async () => {
    const victim = net.routers[2]
    assert.ok(victim)
    const session = await open(router(2))
    const peer = await open(router(0))
    await victim.stop()
    await assert.rejects(session.connect(peer.destination, { timeout: 5000 }), (err: unknown) =>
      isPRouterError(err, 'ERR_SAM_SESSION_CLOSED'),
    )
    await assert.rejects(createSamSession({ sam: router(2).sam, tunnels }, { logger }), (err: unknown) =>
      isPRouterError(err, 'ERR_SAM_CONNECT'),
    )
  })
})

/**
 * Accept `n` streams on `session`, one STREAM ACCEPT at a time, and echo each back. Serial on purpose:
 * i2pd closes queued acceptors that waited more than 3 s (SAM_SESSION_MAX_ACCEPT_INTERVAL), while streams
 * that arrive with no acceptor wait in the destination's own queue for the next one.
 */
async function serveEcho(session: SamSession, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { stream } = await session.accept()
    pipeBack(stream)
  }
}

function pipeBack(stream: Duplex): void {
  stream.on('error', () => undefined)
  stream.pipe(stream)
}

/** `fn` until it resolves, at most `tries` times, a second apart. */
async function eventually<T>(fn: () => Promise<T>, tries: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (err) {
      if (i >= tries) throw err
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
}
