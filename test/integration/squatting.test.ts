/**
 * Address squatting, on real i2pd routers and on both registry backends (run isolated: scripts/isolated.sh).
 * Mallory publishes a valid binding "Mallory -> Alice's b32" (signed by Mallory: every registry accepts it,
 * since none can know who owns a destination) before Alice's daemon even starts. Bob must still name Alice when
 * she calls, give Mallory no credit, and name nobody on a stream without a proof of its own.
 *
 * One testnet for the file; two pairs of workers on it: alice/bob on the local registry (`prouter registry
 * serve`, LMDB) and alice-evm/bob-evm on the EVM registry (anvil). A raw SAM session stands for a client
 * without PRouter, or for an attacker replaying what it captured.
 *
 *   sh scripts/isolated.sh node --import tsx --test --test-concurrency=1 test/integration/squatting.test.ts
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { createWorkerNet, type WorkerNet } from '../../src/testnet/workers.js'
import { createSamSession, type SamSession } from '../../src/sam/index.js'
import { createHttpBackend } from '../../src/registry/index.js'
import { createRegistry } from '../../src/registry/resolver.js'
import type { RegistryBackend } from '../../src/registry/backend.js'
import { createEvmBackend, deployRegistry } from '../../src/registry/evm/index.js'
import {
  i2pEndpoint,
  loadKeyStore,
  signBinding,
  signCallerProof,
  workerKeyFromSuri,
  type WorkerKeyPair,
} from '../../src/identity/index.js'
import { loadDaemonConfig } from '../../src/daemon/config.js'
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js'
import { pingRequest } from '../../src/proxy/handshake.js'
import { workerHost } from '../../src/proxy/worker-name.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'
import { startAnvil } from '../helpers/anvil.js'
import { apiOf, call, rawHttp } from '../helpers/daemon-client.js'

const logger = testLogger()
const NO_WARMING = { warm: { peers: 'none' as const } }
const BACKENDS = ['local registry', 'EVM registry'] as const

interface Side {
  name: (typeof BACKENDS)[number]
  alice: Daemon
  bob: Daemon
  /** Mallory's (and the test's) way into this side's registry. */
  registry: RegistryBackend
}

describe('address squatting: the caller is proven on the stream', { timeout: 15 * 60_000 }, () => {
  let dir: string
  let net: WorkerNet
  let raw: SamSession
  let mallory: WorkerKeyPair
  let alice: WorkerKeyPair
  let dave: WorkerKeyPair
  const sides: Side[] = []
  const cleanup: Array<() => Promise<void>> = []
  const sideOf = (name: Side['name']): Side => {
    const side = sides.find((x) => x.name === name)
    assert.ok(side, `${name} was set up`)
    return side
  }
  const stopAnvil: Array<() => Promise<void>> = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-squat-'))
    ;[alice, mallory, dave] = await Promise.all([
      workerKeyFromSuri('//Alice'),
      workerKeyFromSuri('//Mallory'),
      workerKeyFromSuri('//Dave'),
    ])
    // mallory's key sorts before alice's and her binding comes first on chain: the order in which a
    // reverse lookup over every binding would have found mallory's claim first
    assert.ok(mallory.workerKey < alice.workerKey)
    const anvil = await startAnvil({ after: (fn) => stopAnvil.push(fn) })
    const [deployer, relayerA, relayerB, relayerM] = anvil.privateKeys
    const deployed = await deployRegistry(
      { rpcUrl: anvil.rpcUrl, relayerKey: deployer ?? '0x', pollInterval: 100 },
      { logger },
    )
    const evm = async (relayer: string | undefined, name: string) => {
      const relayerKeyFile = join(dir, `${name}.relayer`)
      await writeFile(relayerKeyFile, relayer ?? '', { mode: 0o600 })
      const { address: contract, blockNumber } = deployed
      return {
        ...NO_WARMING,
        registry: {
          kind: 'evm' as const,
          rpcUrl: anvil.rpcUrl,
          contract,
          fromBlock: String(blockNumber),
          relayerKeyFile,
        },
      }
    }
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [
          { name: 'alice', suri: '//Alice', router: { attach: 0 }, start: false, config: NO_WARMING },
          { name: 'bob', suri: '//Bob', router: { attach: 1 }, config: NO_WARMING },
          {
            name: 'alice-evm',
            suri: '//Alice',
            router: { attach: 0 },
            start: false,
            config: await evm(relayerA, 'a'),
          },
          { name: 'bob-evm', suri: '//Bob', router: { attach: 1 }, config: await evm(relayerB, 'b') },
        ],
      },
      { logger },
    )
    const http = createHttpBackend({ url: net.registryUrl, token: net.registryToken })
    const chain = createEvmBackend(
      {
        rpcUrl: anvil.rpcUrl,
        contract: deployed.address,
        fromBlock: deployed.blockNumber,
        relayerKey: relayerM,
        pollInterval: 100,
      },
      { logger },
    )
    cleanup.push(
      () => http.close(),
      () => chain.close(),
    )
    for (const [name, registry] of [
      ['alice', http],
      ['alice-evm', chain],
    ] as const) {
      // mallory squats alice's address before alice publishes anything, then alice's daemon starts
      const aliceB32 = (await loadKeyStore(join(dir, 'workers', name, 'keys'))).i2p.b32
      await registry.publish(signBinding(mallory, [i2pEndpoint(aliceB32)], Date.now() - 2_000))
      const worker = net.worker(name)
      const daemon = await createDaemon(await loadDaemonConfig({ flags: worker.input }), { logger })
      cleanup.push(() => daemon.stop())
      await daemon.start()
      assert.equal(daemon.b32, aliceB32)
      const bob = net.worker(name.replace('alice', 'bob')).daemon
      assert.ok(bob)
      sides.push({ name: name === 'alice' ? BACKENDS[0] : BACKENDS[1], alice: daemon, bob, registry })
    }
    raw = await createSamSession(
      { sam: net.testnet.state.routers[2]?.sam ?? { host: '', port: 0 }, tunnels: hops(1) },
      { logger },
    )
    cleanup.push(() => {
      raw.destroy()
      return Promise.resolve()
    })
  })
  after(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined)
    await net.destroy()
    for (const fn of stopAnvil) await fn().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  })

  for (const backend of BACKENDS) {
    test(`${backend}: the squat is in the registry, a valid binding of mallory naming alice’s address`, async () => {
      const side = sideOf(backend)
      const registry = createRegistry({ backend: side.registry, cacheTtlMs: 0 }, { logger })
      const claim = await registry.resolve(mallory.workerKey)
      assert.deepEqual(claim.endpoints, [i2pEndpoint(side.alice.b32)], side.name)
      const own = await registry.resolve(alice.workerKey)
      assert.deepEqual(own.endpoints, [i2pEndpoint(side.alice.b32)], side.name)
    })
  }

  for (const backend of BACKENDS) {
    test(`${backend}: alice calls bob: bob’s service sees alice, never mallory; mallory gets no credit`, async () => {
      const side = sideOf(backend)
      const bobKey = side.bob.workerKey
      for (let i = 0; i < 3; i++) {
        const res = await call(apiOf(side.alice), 'GET', `/v1/workers/${bobKey}/hello`, { timeout: 90_000 })
        assert.equal(res.status, 200, `${side.name}: ${res.body.toString()}`)
        const seen = res.json()
        assert.equal(seen.caller, alice.workerKey, `${side.name}: the caller header names alice`)
        assert.equal(seen.callerAddress, side.alice.b32)
      }
      const traffic = await trafficAt(side.bob)
      const ofAlice = traffic.get(alice.workerKey)
      assert.ok(ofAlice !== undefined && ofAlice.requestsIn >= 3, `${side.name}: alice's requests counted`)
      assert.ok(ofAlice.bytesIn > 0 && ofAlice.bytesOut > 0, `${side.name}: alice's bytes counted`)
      assert.equal(traffic.get(mallory.workerKey), undefined, `${side.name}: nothing credited to mallory`)
    })
  }

  for (const backend of BACKENDS) {
    test(`${backend}: a raw SAM client without a proof is anonymous, ping or not`, async () => {
      const side = sideOf(backend)
      const bare = await rawHttp(await connect(raw, side.bob.b32), 'GET /hello HTTP/1.1\r\nhost: bob')
      assert.equal(bare.status, 200)
      const seen = JSON.parse(bare.text) as { caller: string; callerAddress: string }
      assert.deepEqual([seen.caller, seen.callerAddress], ['anonymous', raw.b32], side.name)
      const pinged = await pingThenHello(await connect(raw, side.bob.b32), undefined)
      assert.equal(pinged.pong.proof, 'none', side.name)
      assert.equal(pinged.seen.caller, 'anonymous', side.name)
    })
  }

  for (const backend of BACKENDS) {
    test(`${backend}: a proof replayed from another destination is refused; a proof for a key bound elsewhere names nobody`, async () => {
      const side = sideOf(backend)
      // what alice's daemon sends bob, captured and replayed from the raw session's destination
      const captured = signCallerProof(alice, { caller: side.alice.b32, callee: side.bob.b32 })
      const replayed = await pingThenHello(await connect(raw, side.bob.b32), captured)
      assert.equal(replayed.pong.proof, 'ERR_CALLER_PROOF_SOURCE', side.name)
      assert.deepEqual([replayed.seen.caller, replayed.seen.callerAddress], ['anonymous', raw.b32])
      // mallory proves her key honestly from her own destination: the signature holds, but her newest
      // binding names alice's address, not this stream's source
      const own = signCallerProof(mallory, { caller: raw.b32, callee: side.bob.b32 })
      const bound = await pingThenHello(await connect(raw, side.bob.b32), own)
      assert.equal(bound.pong.proof, 'ok', side.name)
      assert.equal(bound.seen.caller, 'anonymous', `${side.name}: mallory is not named`)
      // and alice's own proof made for another callee
      const elsewhere = signCallerProof(alice, { caller: raw.b32, callee: side.alice.b32 })
      const misdirected = await pingThenHello(await connect(raw, side.bob.b32), elsewhere)
      assert.equal(misdirected.pong.proof, 'ERR_CALLER_PROOF_CALLEE', side.name)
      assert.equal(misdirected.seen.caller, 'anonymous')
      const traffic = await trafficAt(side.bob)
      assert.equal(traffic.get(mallory.workerKey), undefined, `${side.name}: still nothing for mallory`)
      assert.ok(
        (traffic.get('anonymous')?.requestsIn ?? 0) >= 5,
        `${side.name}: the raw streams are anonymous`,
      )
    })
  }

  for (const backend of BACKENDS) {
    test(`${backend}: control: a key whose binding names the raw destination, with its proof, is named`, async () => {
      const side = sideOf(backend)
      await side.registry.publish(signBinding(dave, [i2pEndpoint(raw.b32)], Date.now() - 2_000))
      const proof = signCallerProof(dave, { caller: raw.b32, callee: side.bob.b32 })
      const named = await pingThenHello(await connect(raw, side.bob.b32), proof)
      assert.equal(named.pong.proof, 'ok', side.name)
      assert.deepEqual([named.seen.caller, named.seen.callerAddress], [dave.workerKey, raw.b32], side.name)
    })
  }
})

function hops(n: number) {
  return { inbound: { length: n, quantity: 2 }, outbound: { length: n, quantity: 2 } }
}

/** A stream from the raw session, retried while the callee's LeaseSet is not yet found. */
function connect(session: SamSession, b32: string): Promise<Duplex> {
  return session.connect(b32, { timeout: 30_000, retry: { attempts: 30, delay: 500, maxDelay: 2_000 } })
}

/**
 * A ping (with `proof` if given) and `GET /hello` pipelined on one stream, as a client of our own would send
 * them: the pong's body and what the service was told.
 */
async function pingThenHello(
  stream: Duplex,
  proof: string | undefined,
): Promise<{ pong: Record<string, unknown>; seen: { caller: string; callerAddress: string } }> {
  const host = workerHost(`0x${'00'.repeat(32)}`)
  const { text } = await rawHttp(
    stream,
    `${pingRequest({ host, proof })}GET /hello HTTP/1.1\r\nhost: ${host}`,
  )
  const pong = /\{"workerKey":[^}]*\}/.exec(text)?.[0]
  const seen = /\{"worker":[^}]*\}/.exec(text)?.[0]
  assert.ok(pong !== undefined && seen !== undefined, `two answers on the stream: ${text.slice(0, 400)}`)
  return {
    pong: JSON.parse(pong) as Record<string, unknown>,
    seen: JSON.parse(seen) as { caller: string; callerAddress: string },
  }
}

/** Bob's per-peer counters as his API shows them (open streams' bytes flushed first). */
async function trafficAt(
  daemon: Daemon,
): Promise<Map<string, { requestsIn: number; bytesIn: number; bytesOut: number }>> {
  const res = await call(apiOf(daemon), 'GET', '/v1/peers')
  type Peer = { workerKey: string; traffic?: { requestsIn: number; bytesIn: number; bytesOut: number } }
  const peers = res.json().peers as Peer[]
  return new Map(peers.flatMap((p) => (p.traffic === undefined ? [] : [[p.workerKey, p.traffic] as const])))
}
