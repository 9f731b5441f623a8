/** The resolver over a backend that returns whatever it likes: only verified RouterInfos come out. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { RegistryBackend } from '../../../src/registry/backend.js'
import { createRegistry } from '../../../src/registry/resolver.js'
import { newestRouterInfos } from '../../../src/registry/router-infos.js'
import { isPRouterError } from '../../../src/errors.js'
import { captureLogger } from '../../helpers/capture-logger.js'
import { buildRouterInfo, fixture, testRouterKey } from '../../helpers/router-info.js'

/** A backend holding `stored` RouterInfos as they are; it records what it was asked to publish. */
function backendWith(stored: Uint8Array[]): RegistryBackend & { published: Uint8Array[] } {
  const published: Uint8Array[] = []
  const unused = () => Promise.reject(new Error('not used here'))
  return {
    kind: 'fake',
    published,
    publish: unused,
    candidates: unused,
    all: unused,
    watch: unused,
    routerInfos: {
      publish: (bytes) => {
        published.push(bytes)
        return Promise.resolve({ id: 'x', published: 0 })
      },
      list: () => Promise.resolve(stored),
    },
    close: () => Promise.resolve(),
  }
}

function flipped(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes)
  copy[at] = (copy[at] ?? 0) ^ 1
  return copy
}

test('verifiedRouterInfos keeps the newest valid RouterInfo per router and drops the rest', async () => {
  const key = testRouterKey()
  const now = Date.now()
  const older = buildRouterInfo({ key, published: now - 2000 })
  const newer = buildRouterInfo({ key, published: now - 1000 })
  const forgedNewest = flipped(buildRouterInfo({ key, published: now }), 395)
  const floodfill = fixture('floodfill')
  const stored = [older, forgedNewest, newer, Buffer.from('garbage'), floodfill]
  const logger = captureLogger()
  const registry = createRegistry({ backend: backendWith(stored) }, { logger })
  const infos = await registry.verifiedRouterInfos()
  assert.deepEqual(
    infos.map((i) => Buffer.from(i.bytes).toString('hex')).sort(),
    [newer, floodfill].map((b) => b.toString('hex')).sort(),
  )
  assert.deepEqual(await registry.routerInfos(), stored, 'routerInfos passes the bytes through')
})

test('each bad record is logged once at warn, with its code', async () => {
  const logger = captureLogger()
  const bad = [Buffer.from('garbage'), flipped(fixture('reachable'), 100)]
  const registry = createRegistry({ backend: backendWith(bad) }, { logger })
  await registry.verifiedRouterInfos()
  await registry.verifiedRouterInfos()
  const warned = logger.records.filter((r) => r.level === 'warn').map((r) => (r.obj as { code: string }).code)
  assert.deepEqual(warned, ['ERR_ROUTER_INFO_MALFORMED', 'ERR_ROUTER_INFO_SIGNATURE'])
})

test('publishRouterInfo never relays what does not verify', async () => {
  const backend = backendWith([])
  const registry = createRegistry({ backend }, { logger: captureLogger() })
  await assert.rejects(registry.publishRouterInfo(flipped(fixture('floodfill'), 10)), (err) =>
    isPRouterError(err, 'ERR_ROUTER_INFO_SIGNATURE'),
  )
  await registry.publishRouterInfo(fixture('floodfill'))
  assert.equal(backend.published.length, 1)
})

test('newestRouterInfos: of equal published times the first stays', () => {
  const key = testRouterKey()
  const a = buildRouterInfo({ key, published: 5, options: { caps: 'f', v: 'a' } })
  const b = buildRouterInfo({ key, published: 5, options: { caps: 'f', v: 'b' } })
  assert.deepEqual(
    newestRouterInfos([a, b]).map((i) => i.options.v),
    ['a'],
  )
})
