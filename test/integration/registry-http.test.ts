/**
 * The local registry over HTTP on loopback: the compliance suite, then hostile requests — malformed bodies,
 * an empty publish token, report lists meant to exhaust the server's memory, a worker filling the store,
 * overlapping periods.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openLocalStore } from '../../src/registry/local/store.js'
import type { LocalStoreInit } from '../../src/registry/local/store.js'
import { createRegistryServer } from '../../src/registry/local/server.js'
import { createHttpBackend } from '../../src/registry/local/client.js'
import { bindingToJson, i2pEndpoint, signBinding, workerKeyFromSuri } from '../../src/identity/index.js'
import type { WorkerKeyPair } from '../../src/identity/index.js'
import type { SignedUsageReport } from '../../src/metering/report.js'
import { signUsageReport } from '../../src/registry/usage-reports.js'
import { MAX_REPORTS_PAGE_BYTES, MIB } from '../../src/constants.js'
import { generateDestinationKeys, readRouterInfo } from '../../src/i2p/index.js'
import { isPRouterError } from '../../src/errors.js'
import { silentLogger } from '../../src/logger.js'
import {
  pastPeriod,
  registryCompliance,
  REPORT_PERIOD,
  signedReport,
} from '../helpers/registry-compliance.js'
import { buildRouterInfo, fixture, testRouterKey } from '../helpers/router-info.js'

const logger = silentLogger()
const TOKEN = 'test-token-0123456789'

async function serve(t: TestContext, init: Partial<LocalStoreInit> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-reg-'))
  const store = openLocalStore({ path: dir, ...init }, { logger })
  t.after(() => rm(dir, { recursive: true, force: true }))
  const server = createRegistryServer({ store, token: TOKEN }, { logger })
  const url = await server.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => {
    await server.close()
    await store.close()
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
  assert.deepEqual(await client.routerInfos.publish(floodfill), { id: info.id, published: info.published })
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
  assert.deepEqual(await client.routerInfos.list(), [new Uint8Array(floodfill)], 'only the floodfill is held')
  const listed = (await (await fetch(`${url}/v1/router-infos`)).json()) as { routerInfos: string[] }
  assert.deepEqual(listed, { routerInfos: [floodfill.toString('base64')] })
  assert.deepEqual(sortedHex(await store.routerInfos.list()), sortedHex([floodfill]))
})

test('RouterInfos over HTTP: a replay of an older one is 409 and the client gets ERR_ROUTER_INFO_REPLAYED', async (t) => {
  const { url } = await serve(t)
  const client = createHttpBackend({ url, token: TOKEN })
  const key = testRouterKey()
  const older = buildRouterInfo({ key, published: Date.now() - 2000 })
  const newer = buildRouterInfo({ key, published: Date.now() - 1000 })
  await client.routerInfos.publish(newer)
  assert.deepEqual(await putRouterInfo(url, older), { status: 409, code: 'ERR_ROUTER_INFO_REPLAYED' })
  await assert.rejects(client.routerInfos.publish(older), (err) =>
    isPRouterError(err, 'ERR_ROUTER_INFO_REPLAYED'),
  )
  const noToken = createHttpBackend({ url })
  await assert.rejects(noToken.routerInfos.publish(newer), (err) =>
    isPRouterError(err, 'ERR_REGISTRY_UNAUTHORIZED'),
  )
  assert.deepEqual(sortedHex(await client.routerInfos.list()), sortedHex([newer]))
})

function sortedHex(list: Uint8Array[]): string[] {
  return list.map((b) => Buffer.from(b).toString('hex')).sort()
}

// ---- an empty token, report lists, quotas, overlapping periods (issue 13, attack 4)

const CLI = 'dist/cli/main.js'
const runCli = promisify(execFile)

test('an empty or short token: the server refuses to start, and so does `registry serve`', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-reg-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const store = openLocalStore({ path: join(dir, 'db') }, { logger })
  t.after(() => store.close())
  for (const token of ['', '   ', 'short']) {
    assert.throws(
      () => createRegistryServer({ store, token }, { logger }),
      (err) => isPRouterError(err, 'ERR_REGISTRY_TOKEN_WEAK'),
      JSON.stringify(token),
    )
  }
  const tokenFile = join(dir, 'token')
  await writeFile(tokenFile, '\n', { mode: 0o600 })
  const served = spawnSync(
    process.execPath,
    [CLI, 'registry', 'serve', '--dir', join(dir, 'served'), '--port', '0', '--token-file', tokenFile],
    { timeout: 30_000, encoding: 'utf8' },
  )
  assert.notEqual(served.status, 0, 'it exits instead of serving')
  assert.match(served.stderr, /ERR_REGISTRY_TOKEN_WEAK/)
  assert.equal(served.stdout, '', 'no ready line')
})

/** A signed report of `pair` of about `peers` × 170 bytes: named peers with the largest figures. */
function bigReport(pair: WorkerKeyPair, start: number, peers = 4000): SignedUsageReport {
  const base = signedReport(pair, start).report
  const named = Array.from({ length: peers }, (_, i) => ({
    peer: `0x${(i + 1).toString(16).padStart(64, '0')}`,
    bytesIn: Number.MAX_SAFE_INTEGER - i,
    bytesOut: Number.MAX_SAFE_INTEGER - i,
    requestsIn: 1_000_000,
    requestsOut: 1_000_000,
    errors: 0,
  }))
  return signUsageReport({ ...base, peers: [...named, ...base.peers] }, pair)
}

async function putReport(url: string, report: unknown): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}/v1/reports`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(report),
  })
  return { status: res.status, code: ((await res.json()) as { code?: string }).code }
}

test('GET /v1/reports without a token: pages of at most 4 MiB, however many large reports are held', async (t) => {
  const now = Date.now()
  const { url } = await serve(t)
  const workers = await Promise.all(['//A1', '//A2', '//A3', '//A4', '//A5', '//A6'].map(workerKeyFromSuri))
  let stored = 0
  let bytes = 0
  for (const [w, pair] of workers.entries()) {
    for (let i = 0; i < 10; i++) {
      const report = bigReport(pair, pastPeriod(now, 2 + i + w * 10))
      bytes += JSON.stringify(report).length
      assert.equal((await putReport(url, report)).status, 200)
      stored++
    }
  }
  const rss = (): number => process.memoryUsage().rss / MIB
  const before = rss()
  const t0 = performance.now()
  const pages = await Promise.all(
    Array.from({ length: 20 }, () => fetch(`${url}/v1/reports`).then((r) => r.text())),
  )
  const ms = performance.now() - t0
  const after = rss()
  const first = pages[0] ?? ''
  t.diagnostic(
    `${stored} reports, ${(bytes / MIB).toFixed(1)} MiB held; 20 unauthenticated GET /v1/reports at once: ` +
      `${ms.toFixed(0)} ms, each answer ${(first.length / MIB).toFixed(2)} MiB; RSS ${before.toFixed(0)} -> ` +
      `${after.toFixed(0)} MiB`,
  )
  assert.ok(first.length <= MAX_REPORTS_PAGE_BYTES + 1024, `one answer is ${first.length} bytes`)
  const page = JSON.parse(first) as { reports: unknown[]; next?: string }
  assert.ok(page.reports.length >= 1 && page.next !== undefined, 'a first page, and a cursor')
  const client = createHttpBackend({ url, token: TOKEN })
  const all = await client.reports.list({})
  assert.equal(all.length, stored, 'the client follows the pages to the end')
  assert.equal(new Set(all.map((r) => `${r.report.workerKey}/${r.report.start}`)).size, stored, 'each once')
  const limited = (await (await fetch(`${url}/v1/reports?limit=2`)).json()) as { reports: unknown[] }
  assert.equal(limited.reports.length, 2)
  const tooMany = await fetch(`${url}/v1/reports?limit=1000`)
  assert.deepEqual(
    [tooMany.status, ((await tooMany.json()) as { code: string }).code],
    [400, 'ERR_REGISTRY_BAD_REQUEST'],
  )
})

test('a worker has a quota of stored reports, with or without --allow; others keep their room', async (t) => {
  const now = Date.now()
  const alice = await workerKeyFromSuri('//Alice')
  const bob = await workerKeyFromSuri('//Bob')
  const mallory = await workerKeyFromSuri('//Mallory')
  for (const allowList of [undefined, new Set([alice.workerKey, bob.workerKey])]) {
    const { url } = await serve(t, {
      reportRules: { maxReportsPerWorker: 3, maxBytesPerWorker: MIB },
      ...(allowList === undefined ? {} : { rules: { allowList } }),
    })
    const starts = [2, 3, 4, 5].map((ago) => pastPeriod(now, ago))
    for (const start of starts.slice(0, 3))
      assert.equal((await putReport(url, signedReport(alice, start))).status, 200)
    assert.deepEqual(await putReport(url, signedReport(alice, starts[3] ?? 0)), {
      status: 507,
      code: 'ERR_REGISTRY_QUOTA',
    })
    assert.equal(
      (await putReport(url, signedReport(bob, starts[3] ?? 0))).status,
      200,
      'bob is not held back',
    )
    const big = [bigReport(bob, starts[0] ?? 0, 4000), bigReport(bob, starts[1] ?? 0, 4000)]
    assert.equal((await putReport(url, big[0])).status, 200)
    assert.deepEqual(await putReport(url, big[1]), { status: 507, code: 'ERR_REGISTRY_QUOTA' }, 'bytes count')
    const stranger = await putReport(url, signedReport(mallory, starts[0] ?? 0))
    if (allowList === undefined) assert.equal(stranger.status, 200)
    else assert.deepEqual(stranger, { status: 403, code: 'ERR_REGISTRY_NOT_ALLOWED' }, 'the allow-list holds')
  }
})

test('overlapping periods of one worker are refused at the store; adjacent ones are taken', async (t) => {
  const now = Date.now()
  const { url, store } = await serve(t)
  const alice = await workerKeyFromSuri('//Alice')
  const start = pastPeriod(now, 3)
  assert.equal((await putReport(url, signedReport(alice, start))).status, 200)
  for (const shift of [1, -1, 1000, REPORT_PERIOD - 1]) {
    assert.deepEqual(
      await putReport(url, signedReport(alice, start + shift)),
      { status: 409, code: 'ERR_REPORT_OVERLAP' },
      `start ${shift > 0 ? '+' : ''}${shift} ms`,
    )
  }
  assert.equal((await putReport(url, signedReport(alice, start + REPORT_PERIOD))).status, 200, 'adjacent')
  assert.equal((await putReport(url, signedReport(alice, start - REPORT_PERIOD))).status, 200, 'adjacent')
  assert.deepEqual(
    (await store.reports.list({})).map((r) => r.report.start - start),
    [-REPORT_PERIOD, 0, REPORT_PERIOD],
  )
})

test('`--registry-token` on the command line warns (ps shows it); the token file must be owner-only', async (t) => {
  const { url } = await serve(t)
  const dir = await mkdtemp(join(tmpdir(), 'prouter-token-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const alice = '0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d'
  // asynchronously: the server answering the CLI runs in this process
  const resolve = (...flags: string[]) =>
    runCli(process.execPath, [CLI, 'resolve', alice, '--registry', 'http', '--registry-url', url, ...flags], {
      timeout: 30_000,
      encoding: 'utf8',
    }).then(
      ({ stderr }) => ({ stderr }),
      (err: unknown) => ({ stderr: String((err as { stderr?: unknown }).stderr) }),
    )
  const flagged = await resolve('--registry-token', TOKEN)
  assert.match(flagged.stderr, /warning: --registry-token on the command line is visible/)
  assert.match(flagged.stderr, /ERR_REGISTRY_NOT_FOUND/, 'the command still ran')
  const file = join(dir, 'token')
  await writeFile(file, `${TOKEN}\n`, { mode: 0o600 })
  const quiet = await resolve('--registry-token-file', file)
  assert.doesNotMatch(quiet.stderr, /warning/)
  await chmod(file, 0o640)
  assert.match((await resolve('--registry-token-file', file)).stderr, /ERR_KEY_FILE_MODE/)
})
