/**
 * Usage reports over the local registry's HTTP API, without a network: requests go through fastify's
 * `inject`, and the HTTP client's `fetch` is routed there too. Hostile bodies and queries get a stable code.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { openLocalStore } from '../../../src/registry/local/store.js'
import type { LocalStore } from '../../../src/registry/local/store.js'
import { createRegistryServer } from '../../../src/registry/local/server.js'
import { createHttpBackend } from '../../../src/registry/local/client.js'
import { createRegistry } from '../../../src/registry/resolver.js'
import { workerKeyFromSuri } from '../../../src/identity/index.js'
import { signUsageReport } from '../../../src/registry/usage-reports.js'
import { MAX_REPORT_BYTES } from '../../../src/constants.js'
import { isPRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'
import { REPORT_PERIOD as P, signedReport } from '../../helpers/registry-compliance.js'

const logger = silentLogger()
const TOKEN = 'test-token-0123456789'
const BASE = 'http://registry.invalid'
const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
const T0 = 1_764_756_000_000
const NOW = T0 + 10 * P
const alice = await workerKeyFromSuri('//Alice')
const bob = await workerKeyFromSuri('//Bob')

async function serve(t: TestContext): Promise<{ app: FastifyInstance; store: LocalStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-report-http-'))
  const store = openLocalStore({ path: dir, now: () => NOW }, { logger })
  const server = createRegistryServer({ store, token: TOKEN }, { logger })
  t.after(async () => {
    await server.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { app: server.app, store }
}

/** `fetch` answered by `app.inject`: the HTTP client runs unchanged, no socket is opened. */
function routeFetchTo(t: TestContext, app: FastifyInstance): void {
  t.mock.method(globalThis, 'fetch', async (input: unknown, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : String(input))
    assert.equal(url.origin, BASE)
    const res = await app.inject({
      method: (init.method ?? 'GET') as 'GET' | 'PUT',
      url: `${url.pathname}${url.search}`,
      headers: init.headers as Record<string, string> | undefined,
      payload: init.body as string | undefined,
    })
    return new Response(res.body, { status: res.statusCode, headers: { 'content-type': 'application/json' } })
  })
}

interface Answer {
  status: number
  code?: string
}

async function put(
  app: FastifyInstance,
  payload: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await app.inject({
    method: 'PUT',
    url: '/v1/reports',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    payload,
  })
  return { status: res.statusCode, code: res.json<{ code?: string }>().code }
}

async function get(app: FastifyInstance, search: string): Promise<Answer & { body: unknown }> {
  const res = await app.inject({ method: 'GET', url: `/v1/reports${search}` })
  const body = res.json<{ code?: string }>()
  return { status: res.statusCode, code: body.code, body }
}

const code = (c: string) => (err: unknown) => isPRouterError(err) && err.code === c

test('the HTTP client publishes and lists reports; the resolver verifies what comes back', async (t) => {
  const { app } = await serve(t)
  routeFetchTo(t, app)
  const client = createHttpBackend({ url: BASE, token: TOKEN })
  const reports = [signedReport(alice, T0), signedReport(bob, T0 + P)]
  for (const r of reports) {
    assert.deepEqual(await client.reports.publish(r), {
      workerKey: r.report.workerKey,
      start: r.report.start,
    })
  }
  assert.deepEqual(await client.reports.publish(signedReport(alice, T0)), {
    workerKey: alice.workerKey,
    start: T0,
  })
  await assert.rejects(client.reports.publish(signedReport(alice, T0, 101)), code('ERR_REPORT_CONFLICT'))
  assert.deepEqual(await client.reports.list({}), reports)
  assert.deepEqual(await client.reports.list({ workerKey: bob.workerKey }), reports.slice(1))
  assert.deepEqual(await client.reports.list({ from: T0 + P, to: T0 + 2 * P }), reports.slice(1))
  const registry = createRegistry({ backend: client }, { logger })
  assert.deepEqual(await registry.verifiedReports({ to: T0 + P }), reports.slice(0, 1))
  const noToken = createHttpBackend({ url: BASE })
  await assert.rejects(noToken.reports.publish(signedReport(bob, T0)), code('ERR_REGISTRY_UNAUTHORIZED'))
})

test('the HTTP client refuses answers of another shape', async (t) => {
  t.mock.method(globalThis, 'fetch', (): Promise<Response> =>
    Promise.resolve(new Response(JSON.stringify({ reports: [1, 2] }), { status: 200 })),
  )
  const client = createHttpBackend({ url: BASE, token: TOKEN })
  await assert.rejects(client.reports.list({}), code('ERR_REGISTRY_BAD_REQUEST'))
  await assert.rejects(client.reports.publish(signedReport(alice, T0)), code('ERR_REGISTRY_BAD_REQUEST'))
})

test('hostile PUTs get a 4xx with a stable code and leave the held report untouched', async (t) => {
  const { app, store } = await serve(t)
  const held = signedReport(alice, T0)
  assert.deepEqual(await put(app, JSON.stringify(held)), { status: 200, code: undefined })
  const valid = signedReport(bob, T0)
  const json = JSON.stringify(valid)
  const tampered = structuredClone(valid)
  tampered.report.createdAt += 1
  const oversized = JSON.stringify({ ...valid, pad: 'x'.repeat(MAX_REPORT_BYTES) })
  const cases: Array<[string, string | Buffer, Record<string, string>, number, string]> = [
    ['no token', json, { authorization: '' }, 401, 'ERR_REGISTRY_UNAUTHORIZED'],
    ['wrong token', json, { authorization: 'Bearer nope' }, 401, 'ERR_REGISTRY_UNAUTHORIZED'],
    ['oversized, no token: never read', oversized, { authorization: '' }, 401, 'ERR_REGISTRY_UNAUTHORIZED'],
    ['oversized', oversized, {}, 413, 'ERR_REGISTRY_BODY_TOO_LARGE'],
    ['not JSON', '{"report": {', {}, 400, 'ERR_REPORT_MALFORMED'],
    ['empty', '', {}, 400, 'ERR_REPORT_MALFORMED'],
    ['an array', '[1,2,3]', {}, 400, 'ERR_REPORT_MALFORMED'],
    ['a binding', '{"payload":"0x00","signature":"0x00"}', {}, 400, 'ERR_REPORT_MALFORMED'],
    ['unknown field', JSON.stringify({ ...valid, extra: 1 }), {}, 400, 'ERR_REPORT_MALFORMED'],
    ['no body', '', { 'content-type': '' }, 400, 'ERR_REGISTRY_BAD_REQUEST'],
    [
      'octet-stream',
      Buffer.from(json),
      { 'content-type': 'application/octet-stream' },
      400,
      'ERR_REGISTRY_BAD_REQUEST',
    ],
    ['text/plain', json, { 'content-type': 'text/plain' }, 400, 'ERR_REGISTRY_BAD_REQUEST'],
    ['tampered', JSON.stringify(tampered), {}, 422, 'ERR_REPORT_SIGNATURE'],
    ['future', JSON.stringify(signedReport(bob, NOW + 11 * MINUTE)), {}, 422, 'ERR_REPORT_FUTURE'],
    ['expired', JSON.stringify(signedReport(bob, NOW - 31 * DAY)), {}, 422, 'ERR_REPORT_EXPIRED'],
    ['conflict', JSON.stringify(signedReport(alice, T0, 101)), {}, 409, 'ERR_REPORT_CONFLICT'],
  ]
  for (const [what, body, headers, status, errorCode] of cases) {
    assert.deepEqual(await put(app, body, headers), { status, code: errorCode }, what)
  }
  assert.deepEqual(await store.reports.list({}), [held], 'only the held report')
})

test('a report far over the default body limit but under MAX_REPORT_BYTES is taken', async (t) => {
  const { app, store } = await serve(t)
  const base = signedReport(bob, T0).report
  const peers = Array.from({ length: 3000 }, (_, i) => ({
    peer: `0x${(i + 1).toString(16).padStart(64, '0')}`,
    bytesIn: i,
    bytesOut: 2 * i,
    requestsIn: 1,
    requestsOut: 1,
    errors: 0,
  }))
  const big = signUsageReport({ ...base, peers }, bob)
  const body = JSON.stringify(big)
  assert.ok(body.length > 256 * 1024 && body.length < MAX_REPORT_BYTES, String(body.length))
  assert.deepEqual(await put(app, body), { status: 200, code: undefined })
  assert.deepEqual(await store.reports.list({}), [big])
})

test('GET /v1/reports: a bad query is 400 ERR_REGISTRY_BAD_REQUEST; a good one lists', async (t) => {
  const { app } = await serve(t)
  const held = signedReport(alice, T0)
  await put(app, JSON.stringify(held))
  const bad = [
    '?from=abc',
    '?from=-1',
    '?from=1.5',
    '?from=1e3',
    '?from=',
    '?to=99999999999999999',
    '?from=10&to=9',
    '?from=1&from=2',
    '?worker=0x12',
    `?worker=${alice.workerKey}&worker=${bob.workerKey}`,
    '?workerKey=0x00',
    '?limit=0',
    '?limit=101',
    '?limit=1&limit=2',
    '?after=0001/0x00',
    '?nope=1',
  ]
  for (const search of bad) {
    const { status, code: errorCode } = await get(app, search)
    assert.deepEqual({ status, code: errorCode }, { status: 400, code: 'ERR_REGISTRY_BAD_REQUEST' }, search)
  }
  assert.deepEqual((await get(app, '')).body, { reports: [held] })
  assert.deepEqual((await get(app, `?from=${T0}&to=${T0 + P}&worker=${alice.workerKey}`)).body, {
    reports: [held],
  })
  assert.deepEqual((await get(app, `?worker=${alice.workerKey.toUpperCase().replace('0X', '0x')}`)).body, {
    reports: [held],
  })
  assert.deepEqual((await get(app, `?worker=${bob.workerKey}`)).body, { reports: [] })
  assert.deepEqual((await get(app, `?from=${T0 + P}`)).body, { reports: [] })
})
