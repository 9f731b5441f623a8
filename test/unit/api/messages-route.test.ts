import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test, type TestContext } from 'node:test'
import { createApiServer } from '../../../src/api/server.js'
import type { MessagesApi } from '../../../src/api/messages-route.js'
import { PRouterError } from '../../../src/errors.js'
import type { Outbound } from '../../../src/proxy/outbound.js'
import { silentLogger } from '../../../src/logger.js'
import { ALICE } from '../../helpers/identity-vectors.js'

const TOKEN = 'api-token-messages-1'
const KEY = `0x${ALICE}`

interface Sent {
  workerKey: string
  payload: Buffer
  wait: boolean | undefined
  timeout: number | undefined
  ordered: boolean | undefined
}

async function startApi(t: TestContext, messaging: MessagesApi | undefined) {
  const api = createApiServer(
    { host: '127.0.0.1', port: 0, token: TOKEN, maxHeaderBytes: 4096, requestTimeout: 10_000 },
    {
      logger: silentLogger(),
      outbound: {} as Outbound,
      messaging,
      status: () => Promise.resolve({}),
      peers: () => Promise.resolve({}),
      health: () => ({ ok: true, state: 'up' }),
      history: () => ({}),
      reports: () => Promise.resolve({}),
      metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
    },
  )
  const url = await api.listen()
  t.after(() => api.close())
  return Number(new URL(url).port)
}

function recorder(answer: (s: Sent) => Promise<{ id: string; status: 'delivered' | 'queued' }>) {
  const sent: Sent[] = []
  const messaging: MessagesApi = {
    send: (workerKey, payload, options) => {
      const s = {
        workerKey,
        payload,
        wait: options?.wait,
        timeout: options?.timeout,
        ordered: options?.ordered,
      }
      sent.push(s)
      return answer(s)
    },
  }
  return { sent, messaging }
}

function post(
  port: number,
  path: string,
  body: Buffer,
  token = TOKEN,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

const ok = () =>
  recorder((s) => Promise.resolve({ id: 'a'.repeat(32), status: s.wait === false ? 'queued' : 'delivered' }))

test('a message is handed over with its mode, timeout and order; 200 delivered, 202 queued', async (t) => {
  const { sent, messaging } = ok()
  const port = await startApi(t, messaging)
  const delivered = await post(port, `/v1/messages/${KEY}?timeout=5000`, Buffer.from('hi'))
  assert.equal(delivered.status, 200)
  assert.equal(delivered.json.status, 'delivered')
  const queued = await post(port, `/v1/messages/${ALICE}?mode=queued`, Buffer.from('later'))
  assert.equal(queued.status, 202)
  const ordered = await post(port, `/v1/messages/${KEY}?ordered=true&mode=queued`, Buffer.from('first'))
  assert.equal(ordered.status, 202)
  assert.deepEqual(
    sent.map((s) => [s.workerKey, s.payload.toString(), s.wait, s.timeout, s.ordered]),
    [
      [KEY, 'hi', true, 5000, false],
      [KEY, 'later', false, undefined, false],
      [KEY, 'first', false, undefined, true],
    ],
  )
})

test('bad input is refused with its code before anything is sent', async (t) => {
  const { sent, messaging } = ok()
  const port = await startApi(t, messaging)
  const cases: [string, Buffer, number, string][] = [
    [`/v1/messages/${KEY}`, Buffer.alloc(64 * 1024 + 1), 413, 'ERR_MESSAGE_TOO_LARGE'],
    [`/v1/messages/0x1234`, Buffer.from('x'), 400, 'ERR_INVALID_WORKER_KEY'],
    [`/v1/messages/${KEY}?mode=fire`, Buffer.from('x'), 400, 'ERR_API_BAD_REQUEST'],
    [`/v1/messages/${KEY}?timeout=0`, Buffer.from('x'), 400, 'ERR_API_BAD_REQUEST'],
    [`/v1/messages/${KEY}?ordered=yes`, Buffer.from('x'), 400, 'ERR_API_BAD_REQUEST'],
  ]
  for (const [path, body, status, code] of cases) {
    const answer = await post(port, path, body)
    assert.equal(answer.status, status, path)
    assert.equal(answer.json.code, code, path)
  }
  assert.equal((await post(port, `/v1/messages/${KEY}`, Buffer.from('x'), 'wrong')).status, 401)
  assert.equal(sent.length, 0)
})

test("the sender's codes come back with their HTTP status; no messaging is 404 ERR_MESSAGE_DISABLED", async (t) => {
  const { messaging } = recorder(() =>
    Promise.reject(new PRouterError('ERR_MESSAGE_TIMEOUT', 'not acknowledged within 5 ms')),
  )
  const timeout = await post(await startApi(t, messaging), `/v1/messages/${KEY}`, Buffer.from('x'))
  assert.equal(timeout.status, 504)
  assert.equal(timeout.json.code, 'ERR_MESSAGE_TIMEOUT')
  const off = await post(await startApi(t, undefined), `/v1/messages/${KEY}`, Buffer.from('x'))
  assert.equal(off.status, 404)
  assert.equal(off.json.code, 'ERR_MESSAGE_DISABLED')
})
