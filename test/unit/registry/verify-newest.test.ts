/**
 * Resolving under junk, without a chain: the verdict cache, newest-first verification that stops at the
 * first valid binding and never verifies what cannot win, the caller's signal, and an event loop that keeps
 * turning while thousands of forged bindings are checked.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { signBinding, workerKeyFromSuri } from '../../../src/identity/index.js'
import {
  createVerdictCache,
  decodeClaims,
  newestPerKey,
  newestVerified,
} from '../../../src/registry/verify-newest.js'
import { createRegistry } from '../../../src/registry/resolver.js'
import type { RegistryBackend } from '../../../src/registry/backend.js'
import type { SignedBinding } from '../../../src/identity/index.js'
import { createLogger } from '../../../src/logger.js'
import { junkBinding } from '../../helpers/junk-bindings.js'

const endpoint = `i2p://${'b'.repeat(52)}.b32.i2p`
const logger = createLogger({ level: 'silent' })

test('the verdict cache verifies a binding once, remembers refusals too, and evicts the least recently used', async () => {
  const alice = await workerKeyFromSuri('//Alice')
  const now = Date.now()
  const valid = signBinding(alice, [endpoint], now)
  const forged = junkBinding(alice.publicKey, now)
  const cache = createVerdictCache(2)
  assert.equal(cache.verify(valid)?.workerKey, alice.workerKey)
  assert.equal(cache.verify(forged), undefined)
  assert.equal(cache.verify(valid)?.signingTime, now)
  assert.equal(cache.verify(forged), undefined)
  assert.equal(cache.verifications, 2, 'each verdict computed once')
  const mixed = { ...valid, signature: forged.signature }
  cache.verify(valid) // now the most recently used: `forged` goes first
  assert.equal(cache.verify(mixed), undefined, 'keyed by payload and signature together')
  assert.equal(cache.size, 2)
  assert.equal(cache.verifications, 3)
  cache.verify(valid)
  assert.equal(cache.verifications, 3, 'valid stayed')
  cache.verify(forged)
  assert.equal(cache.verifications, 4, 'forged was evicted')
})

test('newest-first: stops at the first valid binding; older and held-or-older candidates are never verified', async () => {
  const alice = await workerKeyFromSuri('//Alice')
  const now = Date.now()
  const valid = signBinding(alice, [endpoint], now - 60_000)
  const newerJunk = Array.from({ length: 5 }, (_, i) => junkBinding(alice.publicKey, now - i * 1000))
  const olderJunk = Array.from({ length: 50 }, (_, i) => junkBinding(alice.publicKey, now - 120_000 - i))
  const tooOld = Array.from({ length: 50 }, (_, i) => junkBinding(alice.publicKey, now - 3_600_000 - i))
  const claims = await decodeClaims([...olderJunk, valid, ...tooOld, ...newerJunk])
  const verdicts = createVerdictCache()
  const found = await newestVerified(claims, { notBefore: now - 3_000_000, verdicts })
  assert.deepEqual(found?.binding, valid)
  assert.equal(verdicts.verifications, 6, 'the 5 newer forgeries, then the valid one; nothing older')

  const fresh = createVerdictCache()
  const held = found
  const again = await newestVerified(claims, { notBefore: 0, held, verdicts: fresh })
  assert.equal(again, held, 'nothing newer than the held binding verifies: it stays')
  assert.equal(fresh.verifications, 5, 'only candidates newer than the held one are checked')
})

test('newestPerKey keeps each key apart; a binding claiming another key under this one is not believed', async () => {
  const [alice, bob] = await Promise.all([workerKeyFromSuri('//Alice'), workerKeyFromSuri('//Bob')])
  const now = Date.now()
  const a = signBinding(alice, [endpoint], now - 2000)
  const b = signBinding(bob, [endpoint], now - 1000)
  const newest = await newestPerKey(await decodeClaims([a, b, junkBinding(bob.publicKey, now)]), {
    notBefore: 0,
    verdicts: createVerdictCache(),
  })
  assert.deepEqual([...newest.keys()].sort(), [alice.workerKey, bob.workerKey].sort())
  assert.deepEqual(newest.get(bob.workerKey)?.binding, b)
})

test('a resolve through 3000 forged bindings yields to the event loop and stops when its signal aborts', async () => {
  const alice = await workerKeyFromSuri('//Alice')
  const now = Date.now()
  const junk = Array.from({ length: 3000 }, (_, i) => junkBinding(alice.publicKey, now - i))
  const valid = signBinding(alice, [endpoint], now - 60_000)
  const backend = fakeBackend([valid, ...junk])
  const verdicts = createVerdictCache()
  const registry = createRegistry({ backend, verdicts, cacheTtlMs: 0 }, { logger })

  const delay = monitorEventLoopDelay({ resolution: 5 })
  delay.enable()
  // abort once 50 are verified: the watcher only runs if the verification yields to the event loop
  const controller = new AbortController()
  let abortedAt = 0
  const watcher = setInterval(() => {
    if (verdicts.verifications < 50 || controller.signal.aborted) return
    abortedAt = performance.now()
    controller.abort(new DOMException('enough verified', 'TimeoutError'))
  }, 1)
  try {
    await assert.rejects(
      registry.resolve(alice.workerKey, { signal: controller.signal }),
      (err: Error) => err.name === 'TimeoutError',
    )
  } finally {
    clearInterval(watcher)
  }
  const honouredAfter = performance.now() - abortedAt
  delay.disable()
  const maxBlockMs = delay.max / 1e6
  console.log(
    `rejected ${honouredAfter.toFixed(0)} ms after the abort, ${verdicts.verifications} of 3000 verified, ` +
      `longest event-loop block ${maxBlockMs.toFixed(1)} ms`,
  )
  assert.ok(abortedAt > 0, 'the watcher ran while bindings were verified')
  assert.ok(honouredAfter < 400, `the abort was honoured in ${honouredAfter.toFixed(0)} ms`)
  assert.ok(verdicts.verifications < 3000, 'verification stopped with the signal')
  // slices are 10 ms plus one verify (3-7 ms); the bound leaves room for a loaded 2-core test machine
  assert.ok(maxBlockMs < 100, `the event loop was blocked ${maxBlockMs.toFixed(1)} ms at most`)

  const done = verdicts.verifications
  const resolved = await registry.resolve(alice.workerKey)
  assert.deepEqual(resolved.binding, valid, 'the retry finds the valid one behind the junk')
  assert.equal(verdicts.verifications, 3001, 'and verifies only what the aborted attempt had not')
  assert.ok(done >= 50)
})

test('concurrent list() calls share one read of the backend', async () => {
  const alice = await workerKeyFromSuri('//Alice')
  const backend = fakeBackend([signBinding(alice, [endpoint], Date.now() - 1000)])
  const registry = createRegistry({ backend, verdicts: createVerdictCache() }, { logger })
  const lists = await Promise.all([registry.list(), registry.list(), registry.list()])
  assert.deepEqual(
    lists.map((l) => l.length),
    [1, 1, 1],
  )
  assert.equal(backend.allCalls, 1)
  await registry.list()
  assert.equal(backend.allCalls, 2, 'a later call reads again')
})

function fakeBackend(bindings: SignedBinding[]): RegistryBackend & { allCalls: number } {
  const unsupported = (): Promise<never> => Promise.reject(new Error('unsupported'))
  const backend = {
    kind: 'fake',
    allCalls: 0,
    publish: unsupported,
    candidates: () => Promise.resolve(bindings),
    all: async () => {
      backend.allCalls++
      await new Promise((resolve) => setTimeout(resolve, 20))
      return bindings
    },
    watch: unsupported,
    close: () => Promise.resolve(),
  }
  return backend
}
