/** RouterInfos in the embedded LMDB store: rules on publish, a clock the tests move, eviction, persistence. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import type { LocalStoreInit } from '../../../src/registry/local/store.js'
import { openTempStore, type OpenedStore } from '../../helpers/local-store.js'
import { readRouterInfo } from '../../../src/i2p/index.js'
import { signBinding, workerKeyFromSuri } from '../../../src/identity/index.js'
import { isPRouterError } from '../../../src/errors.js'
import { buildRouterInfo, fixture, testRouterKey } from '../../helpers/router-info.js'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
const FLOODFILL = fixture('floodfill')
const REACHABLE = fixture('reachable')
const FIXTURES_AT = readRouterInfo(FLOODFILL).published + MINUTE

const open = (t: TestContext, init: Partial<LocalStoreInit> = {}): Promise<OpenedStore> =>
  openTempStore(t, FIXTURES_AT, init)

const code = (c: string) => (err: unknown) => isPRouterError(err) && err.code === c
const sorted = (list: Uint8Array[]) => list.map((b) => Buffer.from(b).toString('hex')).sort()

test("i2pd's floodfill and reachable RouterInfos are stored byte for byte; the unreachable one is refused", async (t) => {
  const { store } = await open(t)
  const receipt = await store.routerInfos.publish(FLOODFILL)
  assert.deepEqual(receipt, {
    id: readRouterInfo(FLOODFILL).id,
    published: readRouterInfo(FLOODFILL).published,
  })
  await store.routerInfos.publish(REACHABLE)
  await assert.rejects(store.routerInfos.publish(fixture('unreachable')), code('ERR_ROUTER_INFO_UNREACHABLE'))
  assert.deepEqual(sorted(await store.routerInfos.list()), sorted([FLOODFILL, REACHABLE]))
})

test('bytes that do not verify are refused with the parser code, nothing stored', async (t) => {
  const { store } = await open(t)
  const flipped = Buffer.from(FLOODFILL)
  flipped[500] = (flipped[500] ?? 0) ^ 1
  await assert.rejects(store.routerInfos.publish(flipped), code('ERR_ROUTER_INFO_SIGNATURE'))
  await assert.rejects(store.routerInfos.publish(Buffer.from('garbage')), code('ERR_ROUTER_INFO_MALFORMED'))
  assert.deepEqual(await store.routerInfos.list(), [])
})

test('the clock decides: future and expired RouterInfos are refused', async (t) => {
  const { store, clock } = await open(t)
  clock.now = FIXTURES_AT - 20 * MINUTE
  await assert.rejects(store.routerInfos.publish(FLOODFILL), code('ERR_ROUTER_INFO_FUTURE'))
  clock.now = FIXTURES_AT + 8 * DAY
  await assert.rejects(store.routerInfos.publish(FLOODFILL), code('ERR_ROUTER_INFO_EXPIRED'))
  assert.deepEqual(await store.routerInfos.list(), [])
})

test('a netId restriction in the store init refuses other networks', async (t) => {
  const { store } = await open(t, { routerInfoRules: { netId: 2 } })
  await assert.rejects(store.routerInfos.publish(FLOODFILL), code('ERR_ROUTER_INFO_NETID'))
  const { store: on77 } = await open(t, { routerInfoRules: { netId: 77 } })
  await on77.routerInfos.publish(FLOODFILL)
})

test('bad rule options fail when the store opens', async (t) => {
  await assert.rejects(open(t, { routerInfoRules: { maxRouters: -1 } }), code('ERR_INVALID_OPTION'))
})

test('a router is replaced by a newer RouterInfo only; a replay leaves the held one', async (t) => {
  const { store, clock } = await open(t)
  clock.now = Date.now()
  const key = testRouterKey()
  const [older, held] = [clock.now - 2000, clock.now - 1000].map((published) =>
    buildRouterInfo({ key, published }),
  )
  if (older === undefined || held === undefined) throw new Error('unreachable')
  await store.routerInfos.publish(held)
  await assert.rejects(store.routerInfos.publish(older), code('ERR_ROUTER_INFO_REPLAYED'))
  await store.routerInfos.publish(held) // the same bytes: accepted, unchanged
  assert.deepEqual(sorted(await store.routerInfos.list()), sorted([held]))
})

test('concurrent publishes of one router settle on the newest', async (t) => {
  const { store, clock } = await open(t)
  clock.now = Date.now()
  const key = testRouterKey()
  const versions = Array.from({ length: 20 }, (_, i) =>
    buildRouterInfo({ key, published: clock.now - 20_000 + i }),
  )
  const shuffled = [...versions].sort(() => Math.random() - 0.5)
  await Promise.allSettled(shuffled.map((v) => store.routerInfos.publish(v)))
  assert.deepEqual(sorted(await store.routerInfos.list()), sorted(versions.slice(-1)))
})

test('when full, a new router takes the room of expired ones, or is refused with ERR_REGISTRY_FULL', async (t) => {
  const { store, clock } = await open(t, { routerInfoRules: { maxRouters: 2, maxAgeMs: DAY } })
  const start = Date.now()
  clock.now = start
  const [a, b, c] = [testRouterKey(), testRouterKey(), testRouterKey()]
  await store.routerInfos.publish(buildRouterInfo({ key: a, published: start - 2 * MINUTE }))
  await store.routerInfos.publish(buildRouterInfo({ key: b, published: start - MINUTE }))
  const third = buildRouterInfo({ key: c, published: start })
  await assert.rejects(store.routerInfos.publish(third), code('ERR_REGISTRY_FULL'))
  const newerB = buildRouterInfo({ key: b, published: start })
  await store.routerInfos.publish(newerB) // a held router may still be updated
  clock.now = start - 2 * MINUTE + DAY + 1 // a has expired, b has not
  await store.routerInfos.publish(third)
  assert.deepEqual(sorted(await store.routerInfos.list()), sorted([newerB, third]))
})

test('RouterInfos persist across reopening, beside the bindings, which stay as they were', async (t) => {
  const { store, clock, reopen } = await open(t)
  clock.now = Date.now()
  const alice = await workerKeyFromSuri('//Alice')
  const binding = signBinding(alice, ['i2p://' + 'a'.repeat(52) + '.b32.i2p'], clock.now - 1000)
  await store.publish(binding)
  const ri = buildRouterInfo({ key: testRouterKey(), published: clock.now - 1000 })
  await store.routerInfos.publish(ri)
  await store.close()
  const again = reopen()
  assert.deepEqual(await again.all(), [binding])
  assert.deepEqual(await again.candidates(alice.workerKey), [binding])
  assert.deepEqual(sorted(await again.routerInfos.list()), sorted([ri]))
})

test('an aborted call is refused before it starts', async (t) => {
  const { store } = await open(t)
  const signal = AbortSignal.abort(new Error('stop'))
  await assert.rejects(store.routerInfos.publish(FLOODFILL, { signal }), /stop/)
  assert.throws(() => store.routerInfos.list({ signal }), /stop/)
})
