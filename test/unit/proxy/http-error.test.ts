import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect as connectH2, createServer as createH2Server } from 'node:http2'
import net from 'node:net'
import { test, type TestContext } from 'node:test'
import { ERROR_CODES, PRouterError, type ErrorCode } from '../../../src/errors.js'
import { httpStatusOf, sendError, toPRouterError, writeRawError } from '../../../src/proxy/http-error.js'

const EXPECTED: [ErrorCode, number][] = [
  ['ERR_API_BAD_REQUEST', 400],
  ['ERR_INVALID_WORKER_KEY', 400],
  ['ERR_API_UNAUTHORIZED', 401],
  ['ERR_PATH_NOT_ALLOWED', 403],
  ['ERR_ANONYMOUS_REFUSED', 403],
  ['ERR_NOT_FOUND', 404],
  ['ERR_MESSAGE_DISABLED', 404],
  ['ERR_MESSAGE_TOO_LARGE', 413],
  ['ERR_MESSAGE_SIGNATURE', 502],
  ['ERR_MESSAGE_OUTBOX_FULL', 503],
  ['ERR_MESSAGE_TIMEOUT', 504],
  ['ERR_REGISTRY_NOT_FOUND', 404],
  ['ERR_BODY_TOO_LARGE', 413],
  ['ERR_RATE_LIMITED', 429],
  ['ERR_HEADERS_TOO_LARGE', 431],
  ['ERR_PEER_CLOSED', 502],
  ['ERR_SERVICE_UNREACHABLE', 502],
  ['ERR_ROUTER_UNAVAILABLE', 503],
  ['ERR_TOO_MANY_STREAMS', 503],
  ['ERR_NO_SERVICE', 503],
  ['ERR_PEER_UNREACHABLE', 504],
  ['ERR_REQUEST_TIMEOUT', 504],
  ['ERR_IDLE_TIMEOUT', 504],
  ['ERR_INTERNAL', 500],
  ['ERR_SAM_PROTOCOL', 500],
]

async function listen(t: TestContext, server: Server | net.Server): Promise<number> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  return (server.address() as net.AddressInfo).port
}

/** GET from a server whose every request is answered by `handler`. */
async function answer(
  t: TestContext,
  handler: (res: ServerResponse) => void,
): Promise<{ res: IncomingMessage; body: string }> {
  const port = await listen(
    t,
    createServer((_req, res) => {
      handler(res)
    }),
  )
  return getBody(port)
}

async function getBody(port: number): Promise<{ res: IncomingMessage; body: string }> {
  const req = get({ host: '127.0.0.1', port, path: '/', agent: false })
  const [res] = (await once(req, 'response')) as [IncomingMessage]
  let body = ''
  for await (const chunk of res) body += String(chunk)
  return { res, body }
}

test('each code maps to its status; codes not in the table are 500', () => {
  for (const [code, status] of EXPECTED) assert.equal(httpStatusOf(code), status, code)
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    assert.ok([400, 401, 403, 404, 407, 413, 429, 431, 500, 502, 503, 504].includes(httpStatusOf(code)), code)
  }
})

test('toPRouterError keeps a PRouterError and wraps anything else as ERR_INTERNAL with its cause', () => {
  const own = new PRouterError('ERR_NOT_FOUND', 'x')
  assert.equal(toPRouterError(own), own)
  const cause = new Error('boom')
  const wrapped = toPRouterError(cause)
  assert.equal(wrapped.code, 'ERR_INTERNAL')
  assert.equal(wrapped.cause, cause)
  assert.doesNotMatch(wrapped.message, /boom/)
})

test('sendError answers the status and { code, message } as JSON, with extra headers', async (t) => {
  const err = new PRouterError('ERR_RATE_LIMITED', 'slow down')
  const { res, body } = await answer(t, (r) => {
    sendError(r, err, { 'retry-after': '2' })
  })
  assert.equal(res.statusCode, 429)
  assert.equal(res.headers['content-type'], 'application/json')
  assert.equal(res.headers['retry-after'], '2')
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(body)))
  assert.deepEqual(JSON.parse(body), { code: 'ERR_RATE_LIMITED', message: 'slow down' })
})

test('sendError of a foreign error: 500 ERR_INTERNAL, its message not shown', async (t) => {
  const { res, body } = await answer(t, (r) => {
    sendError(r, new Error('secret detail'))
  })
  assert.equal(res.statusCode, 500)
  assert.deepEqual(JSON.parse(body), { code: 'ERR_INTERNAL', message: 'internal error' })
})

test('sendError after the headers went out cuts the response short', async (t) => {
  const port = await listen(
    t,
    createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100' })
      res.write('partial', () => {
        sendError(res, new PRouterError('ERR_PEER_CLOSED', 'gone'))
      })
    }),
  )
  await assert.rejects(getBody(port), { code: 'ECONNRESET' })
})

test('writeRawError writes an HTTP response a client parses, then closes', async (t) => {
  const port = await listen(
    t,
    net.createServer((socket) => {
      writeRawError(socket, new PRouterError('ERR_HEADERS_TOO_LARGE', 'too big: é'))
    }),
  )
  const { res, body } = await getBody(port)
  assert.equal(res.statusCode, 431)
  assert.equal(res.statusMessage, 'Request Header Fields Too Large')
  assert.equal(res.headers.connection, 'close')
  assert.equal(res.headers['content-type'], 'application/json')
  assert.equal(Number(res.headers['content-length']), Buffer.byteLength(body))
  assert.deepEqual(JSON.parse(body), { code: 'ERR_HEADERS_TOO_LARGE', message: 'too big: é' })
})

test('writeRawError of a code outside the reason table: 500 Error', async (t) => {
  const port = await listen(
    t,
    net.createServer((socket) => {
      writeRawError(socket, new Error('x'))
    }),
  )
  const { res, body } = await getBody(port)
  assert.equal(res.statusCode, 500)
  assert.equal(res.statusMessage, 'Error')
  assert.equal((JSON.parse(body) as { code: string }).code, 'ERR_INTERNAL')
})

test('sendError over HTTP/2: the same JSON answer; a connection header asked for is left out, not thrown', async (t) => {
  const server = createH2Server((_req, res) => {
    sendError(res, new PRouterError('ERR_BODY_TOO_LARGE', 'too big'), { connection: 'close' })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const session = connectH2(`http://127.0.0.1:${(server.address() as { port: number }).port}`)
  t.after(() => {
    session.close()
  })
  const req = session.request({ ':path': '/' }, { endStream: true })
  const [headers] = (await once(req, 'response')) as [Record<string, unknown>]
  let body = ''
  req.setEncoding('utf8')
  for await (const chunk of req) body += chunk as string
  assert.equal(headers[':status'], 413)
  assert.deepEqual(JSON.parse(body), { code: 'ERR_BODY_TOO_LARGE', message: 'too big' })
})
