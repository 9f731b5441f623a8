import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { handshake, parseAnswer } from '../../../src/proxy/handshake.js'
import { isPRouterError } from '../../../src/errors.js'

const KEY = `0x${'ab'.repeat(32)}`

/** A loopback server that answers the first bytes it gets with `answer` (or stays silent). */
async function peer(
  t: TestContext,
  answer: string | undefined,
): Promise<{ socket: Socket; got: Promise<string> }> {
  let resolveGot: (s: string) => void = () => undefined
  const got = new Promise<string>((r) => (resolveGot = r))
  const server = createServer((s) => {
    s.once('data', (d: Buffer) => {
      resolveGot(d.toString())
      if (answer !== undefined) s.write(answer)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
  await once(socket, 'connect')
  t.after(() => {
    socket.destroy()
    server.close()
  })
  return { socket, got }
}

const ok = (body: string) =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`

test('the ping is sent and an answer naming the worker resolves', async (t) => {
  const { socket, got } = await peer(t, ok(JSON.stringify({ workerKey: KEY, b32: 'x' })))
  await handshake(socket, KEY, 'w.prouter', new AbortController().signal)
  assert.match(await got, /^GET \/\.prouter\/ping HTTP\/1\.1\r\nhost: w\.prouter\r\n\r\n$/)
})

test('an answer naming another worker, a non-200, garbage or trailing bytes are refused', async (t) => {
  const answers = [
    ok(JSON.stringify({ workerKey: `0x${'cd'.repeat(32)}` })),
    'HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}',
    'SSH-2.0-OpenSSH\r\n\r\n',
    ok(JSON.stringify({ workerKey: KEY })) + 'extra',
    ok('not json'),
  ]
  for (const answer of answers) {
    const { socket } = await peer(t, answer)
    await assert.rejects(handshake(socket, KEY, 'w', new AbortController().signal), (err) =>
      isPRouterError(err, 'ERR_PEER_CLOSED'),
    )
  }
})

test("the peer's own refusal keeps its code (its stream limit is not a dead peer)", async (t) => {
  const body = JSON.stringify({ code: 'ERR_TOO_MANY_STREAMS', message: '6 inbound streams are open' })
  const { socket } = await peer(
    t,
    `HTTP/1.1 503 Service Unavailable\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  )
  await assert.rejects(handshake(socket, KEY, 'w', new AbortController().signal), (err) =>
    isPRouterError(err, 'ERR_TOO_MANY_STREAMS'),
  )
})

test('a silent peer: the handshake ends with the caller signal, never by itself', async (t) => {
  const { socket } = await peer(t, undefined)
  const controller = new AbortController()
  const pending = handshake(socket, KEY, 'w', controller.signal)
  setTimeout(() => {
    controller.abort(new Error('deadline'))
  }, 100)
  await assert.rejects(pending, /deadline/)
})

test('a peer that closes: ERR_PEER_CLOSED', async (t) => {
  const { socket } = await peer(t, undefined)
  const pending = handshake(socket, KEY, 'w', new AbortController().signal)
  socket.destroy()
  await assert.rejects(pending, (err) => isPRouterError(err, 'ERR_PEER_CLOSED'))
})

test('parseAnswer waits for the whole body and refuses endless headers', () => {
  assert.equal(parseAnswer(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nab')), 'incomplete')
  const whole = parseAnswer(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}'))
  assert.notEqual(whole, 'incomplete')
  assert.throws(
    () => parseAnswer(Buffer.alloc(5000, 0x61)),
    (err) => isPRouterError(err, 'ERR_PEER_CLOSED'),
  )
})
