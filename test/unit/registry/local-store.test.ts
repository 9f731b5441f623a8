import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openLocalStore } from '../../../src/registry/local/store.js'
import type { LocalStoreInit } from '../../../src/registry/local/store.js'
import { i2pEndpoint, signBinding, workerKeyFromSuri } from '../../../src/identity/index.js'
import { generateDestinationKeys } from '../../../src/i2p/index.js'
import { isPRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'
import { registryCompliance } from '../../helpers/registry-compliance.js'

const logger = silentLogger()
const HOUR = 3_600_000

async function store(t: TestContext, init: Partial<LocalStoreInit> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-store-'))
  const s = openLocalStore({ path: dir, ...init }, { logger })
  t.after(async () => {
    await s.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { store: s, dir }
}

registryCompliance('local (embedded LMDB)', async (t) => ({
  backend: (await store(t)).store,
  storesRouterInfos: true,
  storesReports: true,
}))

const code = (c: string) => (err: unknown) => isPRouterError(err) && err.code === c
const endpoint = async () => i2pEndpoint((await generateDestinationKeys()).b32)

test('the pallet window: stale and future signing times are refused, nothing stored', async (t) => {
  const { store: s } = await store(t)
  const alice = await workerKeyFromSuri('//Alice')
  await assert.rejects(
    s.publish(signBinding(alice, [await endpoint()], Date.now() - 4 * HOUR - 1000)),
    code('ERR_BINDING_STALE'),
  )
  await assert.rejects(
    s.publish(signBinding(alice, [await endpoint()], Date.now() + 10 * 60_000)),
    code('ERR_BINDING_FUTURE'),
  )
  assert.deepEqual(await s.candidates(alice.workerKey), [])
})

test('a replay of the held binding or an older one is refused and leaves the held one', async (t) => {
  const { store: s } = await store(t)
  const alice = await workerKeyFromSuri('//Alice')
  const held = signBinding(alice, [await endpoint()], Date.now() - 1000)
  await s.publish(held)
  await assert.rejects(s.publish(held), code('ERR_BINDING_REPLAYED'))
  await assert.rejects(
    s.publish(signBinding(alice, [await endpoint()], Date.now() - 9000)),
    code('ERR_BINDING_REPLAYED'),
  )
  assert.deepEqual(await s.candidates(alice.workerKey), [held])
})

test('the allow-list admits listed workers only', async (t) => {
  const alice = await workerKeyFromSuri('//Alice')
  const bob = await workerKeyFromSuri('//Bob')
  const { store: s } = await store(t, { rules: { allowList: new Set([alice.workerKey]) } })
  await s.publish(signBinding(alice, [await endpoint()], Date.now() - 1000))
  await assert.rejects(
    s.publish(signBinding(bob, [await endpoint()], Date.now() - 1000)),
    code('ERR_REGISTRY_NOT_ALLOWED'),
  )
})

test('concurrent publishes of one key settle on the newest signing time', async (t) => {
  const { store: s } = await store(t)
  const alice = await workerKeyFromSuri('//Alice')
  const now = Date.now()
  const bindings = await Promise.all(
    Array.from({ length: 20 }, async (_, i) =>
      signBinding(alice, [await endpoint()], now - 20_000 + i * 500),
    ),
  )
  const shuffled = [...bindings].sort(() => Math.random() - 0.5)
  const results = await Promise.allSettled(shuffled.map((b) => s.publish(b)))
  for (const r of results) {
    if (r.status === 'rejected') assert.ok(code('ERR_BINDING_REPLAYED')(r.reason), String(r.reason))
  }
  assert.deepEqual(await s.candidates(alice.workerKey), [bindings.at(-1)])
})

test('bindings survive closing and reopening the store', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-store-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const alice = await workerKeyFromSuri('//Alice')
  const binding = signBinding(alice, [await endpoint()], Date.now() - 1000)
  const first = openLocalStore({ path: dir }, { logger })
  await first.publish(binding)
  await first.close()
  const second = openLocalStore({ path: dir }, { logger })
  t.after(() => second.close())
  assert.deepEqual(await second.candidates(alice.workerKey), [binding])
})
