/** The local registry over HTTP on loopback: the compliance suite, then hostile requests. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openLocalStore } from '../../src/registry/local/store.js'
import type { LocalStoreInit } from '../../src/registry/local/store.js'
import { createRegistryServer } from '../../src/registry/local/server.js'
import { createHttpBackend } from '../../src/registry/local/client.js'
import { bindingToJson, i2pEndpoint, signBinding, workerKeyFromSuri } from '../../src/identity/index.js'
import { generateDestinationKeys, readRouterInfo } from '../../src/i2p/index.js'
import { isPRouterError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import { registryCompliance } from '../helpers/registry-compliance.js'
import { buildRouterInfo, fixture, testRouterKey } from '../helpers/router-info.js'

const logger = silentLogger()
const TOKEN = 'test-token-0123456789'

async function serve(t: TestContext, init: Partial<LocalStoreInit> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-reg-'))
  const store = openLocalStore({ path: dir, ...init }, { logger })
  const server = createRegistryServer({ store, token: TOKEN }, { logger })
  const url = await server.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => {
    await server.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { url, store }
}

registryCompliance('local over HTTP', async (t) => {
  const { url } = await serve(t)
  return { backend: createHttpBackend({ url, token: TOKEN }), storesRouterInfos: true, storesReports: true }
})

async function post(url: string, body: string, token = TOKEN): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}/v1/bindings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  })
  const json = (await res.json()) as { code?: string }
  return { status: res.status, code: json.code }
}

test('hostile requests get a 4xx with a stable code and leave the stored binding untouched', async (t) => {
  const { url, store } = await serve(t)
  const alice = await workerKeyFromSuri('//Alice')
  const ep = i2pEndpoint((await generateDestinationKeys()).b32)
  const held = signBinding(alice, [ep], Date.now() - 1000)
  assert.deepEqual(await post(url, JSON.stringify(bindingToJson(held))), { status: 201, code: undefined })
  const valid = bindingToJson(signBinding(alice, [ep], Date.now() - 500))
  const flipped = {
    ...valid,
    signature: valid.signature.slice(0, -2) + (valid.signature.endsWith('00') ? '01' : '00'),
  }
  const cases: Array<[string, string, number, string, string?]> = [
    ['malformed JSON', '{"payload": "0x', 400, 'ERR_REGISTRY_BAD_REQUEST'],
    ['not an object', '[1,2,3]', 400, 'ERR_BINDING_MALFORMED'],
    ['missing signature', JSON.stringify({ payload: valid.payload }), 400, 'ERR_BINDING_MALFORMED'],
    ['short signature', JSON.stringify({ ...valid, signature: '0x1234' }), 400, 'ERR_BINDING_MALFORMED'],
    ['not hex', JSON.stringify({ ...valid, payload: '0xzz' }), 400, 'ERR_BINDING_MALFORMED'],
    [
      'truncated SCALE',
      JSON.stringify({ ...valid, payload: valid.payload.slice(0, 40) }),
      400,
      'ERR_BINDING_MALFORMED',
    ],
    ['bad signature', JSON.stringify(flipped), 422, 'ERR_BINDING_SIGNATURE'],
    ['replay', JSON.stringify(bindingToJson(held)), 409, 'ERR_BINDING_REPLAYED'],
    [
      'oversized',
      JSON.stringify({ ...valid, pad: 'x'.repeat(64 * 1024) }),
      413,
      'ERR_REGISTRY_BODY_TOO_LARGE',
    ],
    ['no token', JSON.stringify(valid), 401, 'ERR_REGISTRY_UNAUTHORIZED', 'wrong-token'],
  ]
  for (const [what, body, status, code, token] of cases) {
    assert.deepEqual(await post(url, body, token), { status, code }, what)
  }
  assert.deepEqual(await store.candidates(alice.workerKey), [held], 'the held binding is untouched')
})

test('reads: unknown worker 404, malformed key 400, known worker returns the signed bytes', async (t) => {
  const { url } = await serve(t)
  const alice = await workerKeyFromSuri('//Alice')
  const unknown = await fetch(`${url}/v1/bindings/${alice.workerKey}`)
  assert.equal(unknown.status, 404)
  assert.equal(((await unknown.json()) as { code: string }).code, 'ERR_REGISTRY_NOT_FOUND')
  const bad = await fetch(`${url}/v1/bindings/0xnothex`)
  assert.deepEqual(
    [bad.status, ((await bad.json()) as { code: string }).code],
    [400, 'ERR_INVALID_WORKER_KEY'],
  )
  const binding = signBinding(alice, [i2pEndpoint((await generateDestinationKeys()).b32)], Date.now() - 1000)
  await post(url, JSON.stringify(bindingToJson(binding)))
  const got = (await (await fetch(`${url}/v1/bindings/${alice.workerKey}`)).json()) as Record<string, unknown>
  assert.deepEqual(
    [got.payload, got.signature, got.workerKey],
    [...Object.values(bindingToJson(binding)), alice.workerKey],
  )
})

test('a registry that is down is ERR_REGISTRY_UNREACHABLE, not a hang', async () => {
  const backend = createHttpBackend({ url: 'http://127.0.0.1:1', token: TOKEN, timeout: 2000 })
  const alice = await workerKeyFromSuri('//Alice')
  await assert.rejects(
    backend.candidates(alice.workerKey),
    (err: { code?: string }) => err.code === 'ERR_REGISTRY_UNREACHABLE',
  )
})

async function putRouterInfo(
  url: string,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}/v1/router-infos`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${TOKEN}`, ...headers },
    body,
  })
  const json = (await res.json()) as { code?: string }
  return { status: res.status, code: json.code }
}

test("RouterInfos over HTTP: i2pd's round-trip byte for byte; hostile PUTs get a stable code", async (t) => {
  const floodfill = fixture('floodfill')
  const info = readRouterInfo(floodfill)
  const { url, store } = await serve(t, { now: () => info.published + 60_000 })
  const client = createHttpBackend({ url, token: TOKEN })
  assert.deepEqual(await client.publishRouterInfo(floodfill), { id: info.id, published: info.published })
  const flipped = Buffer.from(floodfill)
  flipped[450] = (flipped[450] ?? 0) ^ 1
  const cases: Array<[string, Uint8Array | string, Record<string, string>, number, string]> = [
    ['garbage', Buffer.from('not a router info'), {}, 400, 'ERR_ROUTER_INFO_MALFORMED'],
    ['empty', new Uint8Array(0), {}, 400, 'ERR_ROUTER_INFO_MALFORMED'],
    ['flipped byte', flipped, {}, 422, 'ERR_ROUTER_INFO_SIGNATURE'],
    ['unreachable router', fixture('unreachable'), {}, 422, 'ERR_ROUTER_INFO_UNREACHABLE'],
    ['oversized', Buffer.alloc(3073), {}, 413, 'ERR_REGISTRY_BODY_TOO_LARGE'],
    ['no token', floodfill, { authorization: '' }, 401, 'ERR_REGISTRY_UNAUTHORIZED'],
    ['wrong token', floodfill, { authorization: 'Bearer nope' }, 401, 'ERR_REGISTRY_UNAUTHORIZED'],
    [
      'JSON',
      JSON.stringify({ routerInfo: 'x' }),
      { 'content-type': 'application/json' },
      400,
      'ERR_REGISTRY_BAD_REQUEST',
    ],
  ]
  for (const [what, body, headers, status, code] of cases) {
    assert.deepEqual(await putRouterInfo(url, body, headers), { status, code }, what)
  }
  assert.deepEqual(await client.routerInfos(), [new Uint8Array(floodfill)], 'only the floodfill is held')
  const listed = (await (await fetch(`${url}/v1/router-infos`)).json()) as { routerInfos: string[] }
  assert.deepEqual(listed, { routerInfos: [floodfill.toString('base64')] })
  assert.deepEqual(sortedHex(await store.routerInfos()), sortedHex([floodfill]))
})

test('RouterInfos over HTTP: a replay of an older one is 409 and the client gets ERR_ROUTER_INFO_REPLAYED', async (t) => {
  const { url } = await serve(t)
  const client = createHttpBackend({ url, token: TOKEN })
  const key = testRouterKey()
  const older = buildRouterInfo({ key, published: Date.now() - 2000 })
  const newer = buildRouterInfo({ key, published: Date.now() - 1000 })
  await client.publishRouterInfo(newer)
  assert.deepEqual(await putRouterInfo(url, older), { status: 409, code: 'ERR_ROUTER_INFO_REPLAYED' })
  await assert.rejects(client.publishRouterInfo(older), (err) =>
    isPRouterError(err, 'ERR_ROUTER_INFO_REPLAYED'),
  )
  const noToken = createHttpBackend({ url })
  await assert.rejects(noToken.publishRouterInfo(newer), (err) =>
    isPRouterError(err, 'ERR_REGISTRY_UNAUTHORIZED'),
  )
  assert.deepEqual(sortedHex(await client.routerInfos()), sortedHex([newer]))
})

function sortedHex(list: Uint8Array[]): string[] {
  return list.map((b) => Buffer.from(b).toString('hex')).sort()
}
