/**
 * createRouterInfoPublisher: reads a router.info file (i2pd's fixtures copied to a temp folder) and publishes
 * it to a fake registry that records each call; no router, no registry backend.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isPRouterError, PRouterError } from '../../../src/errors.js'
import { readRouterInfo } from '../../../src/i2p/index.js'
import { silentLogger } from '../../../src/logger.js'
import { createRouterInfoPublisher } from '../../../src/daemon/router-info-publisher.js'
import type { RouterInfoPublisher } from '../../../src/daemon/router-info-publisher.js'
import type { Registry } from '../../../src/registry/resolver.js'
import { fixture } from '../../helpers/router-info.js'
import { tempDir } from '../../helpers/i2pd.js'

const FLOODFILL = fixture('floodfill')
const REACHABLE = fixture('reachable')
const UNREACHABLE = fixture('unreachable')
const HOUR = 60 * 60 * 1000

interface Fake {
  calls: Buffer[]
  /** What the next call does instead of storing: throw this. */
  fail?: Error
}

/** A Registry of which only publishRouterInfo is used: it records the bytes and answers like a backend. */
function fakeRegistry(fake: Fake): Registry {
  const publishRouterInfo = (bytes: Uint8Array) => {
    fake.calls.push(Buffer.from(bytes))
    if (fake.fail !== undefined) return Promise.reject(fake.fail)
    const { id, published } = readRouterInfo(bytes)
    return Promise.resolve({ id, published })
  }
  return { publishRouterInfo } as unknown as Registry
}

async function setup(
  t: { after: (fn: () => Promise<void>) => void },
  interval = HOUR,
): Promise<{ file: string; fake: Fake; publisher: RouterInfoPublisher }> {
  const file = join(await tempDir(t, 'prouter-ri-publisher-'), 'router.info')
  const fake: Fake = { calls: [] }
  const publisher = createRouterInfoPublisher(
    { file, interval },
    { registry: fakeRegistry(fake), logger: silentLogger() },
  )
  t.after(() => publisher.stop())
  return { file, fake, publisher }
}

test('publishes once; the same bytes again are unchanged and not sent; new bytes are', async (t) => {
  const { file, fake, publisher } = await setup(t)
  assert.equal(publisher.last, undefined, 'nothing before the first attempt')
  await writeFile(file, FLOODFILL)
  const floodfill = readRouterInfo(FLOODFILL)
  const published = { state: 'published', id: floodfill.id, published: floodfill.published }
  assert.deepEqual(await publisher.publishNow(), published)
  assert.deepEqual(publisher.last, published)
  assert.deepEqual(await publisher.publishNow(), { state: 'unchanged', id: floodfill.id })
  assert.deepEqual(publisher.last, published, "'unchanged' keeps the last real outcome")
  assert.equal(fake.calls.length, 1)
  assert.ok(fake.calls[0]?.equals(FLOODFILL), 'the exact bytes of the file')
  await writeFile(file, REACHABLE)
  const reachable = readRouterInfo(REACHABLE)
  assert.deepEqual(await publisher.publishNow(), {
    state: 'published',
    id: reachable.id,
    published: reachable.published,
  })
  assert.equal(fake.calls.length, 2)
})

test('a router others cannot use (no host, no floodfill) is not published', async (t) => {
  const { file, fake, publisher } = await setup(t)
  await writeFile(file, UNREACHABLE)
  const outcome = { state: 'not-usable', id: readRouterInfo(UNREACHABLE).id }
  assert.deepEqual(await publisher.publishNow(), outcome)
  assert.deepEqual(publisher.last, outcome)
  assert.equal(fake.calls.length, 0)
})

test('no router.info yet: missing, and published once it appears', async (t) => {
  const { file, fake, publisher } = await setup(t)
  assert.deepEqual(await publisher.publishNow(), { state: 'missing' })
  assert.deepEqual(publisher.last, { state: 'missing' })
  assert.equal(fake.calls.length, 0)
  await writeFile(file, FLOODFILL)
  assert.equal((await publisher.publishNow()).state, 'published')
})

test('a registry that keeps no RouterInfos is asked once, then never again', async (t) => {
  const { file, fake, publisher } = await setup(t)
  await writeFile(file, FLOODFILL)
  fake.fail = new PRouterError('ERR_REGISTRY_UNSUPPORTED', 'the evm registry stores bindings only')
  assert.deepEqual(await publisher.publishNow(), { state: 'unsupported' })
  assert.deepEqual(publisher.last, { state: 'unsupported' })
  delete fake.fail
  await writeFile(file, REACHABLE)
  assert.deepEqual(await publisher.publishNow(), { state: 'unsupported' })
  assert.equal(fake.calls.length, 1)
})

test('a file that is no RouterInfo throws its code and last is failed', async (t) => {
  const { file, fake, publisher } = await setup(t)
  await writeFile(file, Buffer.from('not a router info at all'))
  await assert.rejects(publisher.publishNow(), (err: unknown) =>
    isPRouterError(err, 'ERR_ROUTER_INFO_MALFORMED'),
  )
  assert.equal(publisher.last?.state, 'failed')
  assert.match((publisher.last as { error: string }).error, /router info/)
  const flipped = Buffer.from(FLOODFILL)
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1
  await writeFile(file, flipped)
  await assert.rejects(publisher.publishNow(), (err: unknown) =>
    isPRouterError(err, 'ERR_ROUTER_INFO_SIGNATURE'),
  )
  assert.equal(fake.calls.length, 0, 'nothing that does not verify is sent')
})

test('another registry error is thrown, last is failed, and the next attempt sends again', async (t) => {
  const { file, fake, publisher } = await setup(t)
  await writeFile(file, FLOODFILL)
  fake.fail = new PRouterError('ERR_REGISTRY_FULL', 'full')
  await assert.rejects(publisher.publishNow(), (err: unknown) => isPRouterError(err, 'ERR_REGISTRY_FULL'))
  assert.deepEqual(publisher.last, { state: 'failed', error: 'full' })
  delete fake.fail
  assert.equal((await publisher.publishNow()).state, 'published', 'not taken as sent')
  assert.equal(fake.calls.length, 2)
})

test('start publishes on its interval until stop; start twice keeps one timer', async (t) => {
  const { file, fake, publisher } = await setup(t, 20)
  await writeFile(file, FLOODFILL)
  publisher.start()
  publisher.start()
  for (let waited = 0; fake.calls.length === 0 && waited < 5000; waited += 10) await sleep(10)
  assert.equal(publisher.last?.state, 'published')
  await writeFile(file, REACHABLE)
  for (let waited = 0; fake.calls.length < 2 && waited < 5000; waited += 10) await sleep(10)
  await publisher.stop()
  assert.equal(fake.calls.length, 2, 'each change sent once')
  await writeFile(file, FLOODFILL)
  await sleep(100)
  assert.equal(fake.calls.length, 2, 'nothing after stop')
})
