/**
 * Issue 13, attacks 2 and 3, on a real node (anvil):
 *  - junk: 2,000 forged 2 KiB bindings logged for one key. A fresh resolver must still find the key's
 *    valid binding, keep the event loop turning, stop when its signal aborts, and, once its index has
 *    synced, answer a fresh lookup (new process state, index file on disk) in milliseconds.
 *  - rollback through watch(): replaying an older valid binding must not become anyone's answer, whether
 *    the resolver had the key cached or not.
 *
 *   sh scripts/isolated.sh node --import tsx --test test/integration/registry-junk.test.ts
 */
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../src/logger.js'
import type { VerifiedBinding } from '../../src/identity/index.js'
import { i2pEndpoint, signBinding, workerKeyFromSuri } from '../../src/identity/index.js'
import { createRegistry } from '../../src/registry/resolver.js'
import type { Registry } from '../../src/registry/resolver.js'
import { createVerdictCache } from '../../src/registry/verify-newest.js'
import { createEvmBackend, deployRegistry } from '../../src/registry/evm/index.js'
import type { EvmBackendInit } from '../../src/registry/evm/index.js'
import { startAnvil } from '../helpers/anvil.js'
import { submitMany } from '../helpers/evm-spam.js'
import { junkBinding } from '../helpers/junk-bindings.js'
import { watchLoopBlocks } from '../helpers/loop-blocks.js'

const logger = silentLogger()
const JUNK = 2_000
const MIB = 1024 * 1024

async function onChain(t: TestContext) {
  const anvil = await startAnvil(t)
  const [deployer, relayer, spammer] = anvil.privateKeys
  const deployed = await deployRegistry(
    { rpcUrl: anvil.rpcUrl, relayerKey: deployer ?? '', pollInterval: 50, txTimeout: 5_000 },
    { logger },
  )
  /** A resolver as a freshly started daemon has it: its own verdict cache, the index file if given. */
  const fresh = (options: Partial<EvmBackendInit> = {}): Registry => {
    const backend = createEvmBackend(
      {
        rpcUrl: anvil.rpcUrl,
        contract: deployed.address,
        fromBlock: deployed.blockNumber,
        relayerKey: relayer,
        pollInterval: 50,
        ...options,
      },
      { logger },
    )
    const registry = createRegistry({ backend, verdicts: createVerdictCache() }, { logger })
    t.after(() => registry.close())
    return registry
  }
  return { anvil, deployed, spammer: spammer ?? '', fresh }
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** A random b32 address's endpoint: 51 base32 characters, then 'a' (the 52nd carries one bit). */
function endpoint(): string {
  const b32 = Array.from(crypto.getRandomValues(new Uint8Array(51)), (n) => BASE32[n % 32]).join('')
  return i2pEndpoint(`${b32}a.b32.i2p`)
}

test(`${JUNK} junk 2 KiB events for one key: found, the loop keeps turning, aborts honoured, then fast from the index`, async (t) => {
  const { anvil, deployed, spammer, fresh } = await onChain(t)
  const dir = await mkdtemp(join(tmpdir(), 'prouter-junk-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const indexPath = join(dir, 'registry-evm-index.json')
  const alice = await workerKeyFromSuri('//Alice')
  const now = Date.now()
  const valid = signBinding(alice, [endpoint()], now - 60_000)
  await fresh().publish(valid)
  // Junk claims newer signing times than the valid binding, so none can be dropped unverified.
  const junk = Array.from({ length: JUNK }, (_, i) => junkBinding(alice.publicKey, now - 30_000 + i))
  const { blocks } = await submitMany(anvil.rpcUrl, deployed.address, spammer, junk)
  t.diagnostic(`${JUNK} junk events logged in ${blocks} blocks`)

  const impatient = fresh()
  let t0 = performance.now()
  await assert.rejects(
    impatient.resolve(alice.workerKey, { signal: AbortSignal.timeout(250) }),
    (err: Error) => err.name === 'TimeoutError',
  )
  const abortMs = performance.now() - t0
  t.diagnostic(`a resolve with a 250 ms signal gave up after ${abortMs.toFixed(0)} ms`)
  assert.ok(abortMs < 750, `the signal was honoured (${abortMs.toFixed(0)} ms)`)

  global.gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const loop = watchLoopBlocks()
  const first = fresh({ indexPath })
  t0 = performance.now()
  const found = await first.resolve(alice.workerKey)
  const firstMs = performance.now() - t0
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / MIB
  t0 = performance.now()
  const listed = await first.list()
  const listMs = performance.now() - t0
  const held = loop.stop()
  t.diagnostic(
    `first sync: resolve ${firstMs.toFixed(0)} ms (heap +${heapMiB.toFixed(0)} MiB), list ${listMs.toFixed(0)} ms, ` +
      `event loop held at most ${held.maxCpuMs.toFixed(1)} ms of CPU (${held.maxWallMs.toFixed(1)} ms wall)`,
  )
  assert.deepEqual(found.binding, valid)
  assert.deepEqual(
    listed.map((b) => b.workerKey),
    [alice.workerKey],
  )
  assert.ok(heapMiB < 150, `heap grew ${heapMiB.toFixed(0)} MiB`)
  await first.close() // writes the index file

  const restarted = fresh({ indexPath })
  t0 = performance.now()
  const again = await restarted.resolve(alice.workerKey)
  const freshMs = performance.now() - t0
  t0 = performance.now()
  await assert.rejects(restarted.reverse(endpoint()), /ERR_REGISTRY_NOT_FOUND|no worker/)
  const reverseMs = performance.now() - t0
  t.diagnostic(
    `after the first sync: fresh resolve ${freshMs.toFixed(0)} ms, reverse of an unknown address ${reverseMs.toFixed(0)} ms`,
  )
  assert.deepEqual(again.binding, valid)
  await restarted.close()
  assert.ok(freshMs < 200, `a fresh resolve after the first sync took ${freshMs.toFixed(0)} ms`)
  assert.ok(reverseMs < 200, `reverse of an unknown address took ${reverseMs.toFixed(0)} ms`)
  // CPU time, not wall time: on a loaded test machine a descheduled process looks blocked without being so.
  // The longest piece is one eth_getLogs answer parsed whole: a block of ~280 junk events, ~1.2 MB of JSON.
  assert.ok(held.maxCpuMs < 100, `the event loop was never held long (${held.maxCpuMs.toFixed(1)} ms)`)
})

test('a replayed older binding seen by watch() never becomes the answer, cached or not', async (t) => {
  const { fresh } = await onChain(t)
  const alice = await workerKeyFromSuri('//Alice')
  const now = Date.now()
  const older = signBinding(alice, [endpoint()], now - 120_000)
  const newer = signBinding(alice, [endpoint()], now - 60_000)
  const relay = fresh()
  await relay.publish(older)
  await relay.publish(newer)

  for (const cached of [false, true]) {
    const watcher = fresh()
    if (cached) assert.deepEqual((await watcher.resolve(alice.workerKey)).binding, newer)
    const seen: VerifiedBinding[] = []
    const controller = new AbortController()
    t.after(() => {
      controller.abort()
    })
    const watching = watcher.watch((b) => seen.push(b), { signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 300)) // the watch reads the head first
    await relay.publish(older) // the attacker relays Alice's old binding again (within its 4 h window)
    await relay.publish(older)
    const deadline = Date.now() + 5_000
    while (Date.now() < deadline && (cached ? Date.now() < deadline - 4_000 : seen.length === 0)) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    controller.abort()
    await watching
    const answer = await watcher.resolve(alice.workerKey)
    t.diagnostic(
      `${cached ? 'cached' : 'uncached'}: watch reported ${seen.length}, resolve gives ${answer.signingTime}`,
    )
    assert.deepEqual(
      answer.binding,
      newer,
      `${cached ? 'cached' : 'uncached'}: resolve still gives the newest`,
    )
    assert.ok(
      seen.every((b) => b.signingTime === now - 60_000),
      'watch never reported the older binding',
    )
    if (!cached) assert.ok(seen.length > 0, 'an uncached key learned from watch was looked up for real')
  }
})
