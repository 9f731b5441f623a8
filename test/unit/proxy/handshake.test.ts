import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { handshake, parseAnswer, pingRequest, type HandshakeInit } from '../../../src/proxy/handshake.js'
import { isPRouterError } from '../../../src/errors.js'

const KEY = `0x${'ab'.repeat(32)}`
const PROOF = 'ab'.repeat(248)
const to = (host = 'w', proof: string | undefined = PROOF): HandshakeInit => ({ workerKey: KEY, host, proof })

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

test('the ping carries the proof; an answer naming the worker resolves with its verdict and session', async (t) => {
  const body = { workerKey: KEY, b32: 'x', proof: 'ok', session: '0123456789abcdef' }
  const { socket, got } = await peer(t, ok(JSON.stringify(body)))
  const answer = await handshake(socket, to('w.prouter'), new AbortController().signal)
  assert.deepEqual(answer, { proof: 'ok', session: '0123456789abcdef' })
  assert.equal(
    await got,
    `GET /.prouter/ping HTTP/1.1\r\nhost: w.prouter\r\nx-prouter-proof: ${PROOF}\r\n\r\n`,
  )
})

test('a refused proof is passed on by its code; an older peer that says nothing, or anything else: undefined', async (t) => {
  const said = [
    ['ERR_CALLER_PROOF_TIME', 'ERR_CALLER_PROOF_TIME'],
    [undefined, undefined],
    ['ERR_NOT_A_CODE', undefined],
    ['toString', undefined],
    [42, undefined],
  ] as const
  for (const [proof, expected] of said) {
    const { socket } = await peer(t, ok(JSON.stringify({ workerKey: KEY, proof })))
    const answer = await handshake(socket, to(), new AbortController().signal)
    assert.equal(answer.proof, expected, String(proof))
  }
})

test('a session token that is not short hex is ignored, as from an older peer', async (t) => {
  for (const session of ['', 'ABCDEF0123456789', 'f'.repeat(33), 'not hex!', 42, ['0123456789abcdef']]) {
    const { socket } = await peer(t, ok(JSON.stringify({ workerKey: KEY, session })))
    const answer = await handshake(socket, to(), new AbortController().signal)
    assert.equal(answer.session, undefined, JSON.stringify(session))
  }
})

test('without a proof the ping is the bare request', () => {
  assert.equal(pingRequest({ host: 'w', proof: undefined }), 'GET /.prouter/ping HTTP/1.1\r\nhost: w\r\n\r\n')
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
    await assert.rejects(handshake(socket, to(), new AbortController().signal), (err) =>
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
  await assert.rejects(handshake(socket, to(), new AbortController().signal), (err) =>
    isPRouterError(err, 'ERR_TOO_MANY_STREAMS'),
  )
})

test('a silent peer: the handshake ends with the caller signal, never by itself', async (t) => {
  const { socket } = await peer(t, undefined)
  const controller = new AbortController()
  const pending = handshake(socket, to(), controller.signal)
  setTimeout(() => {
    controller.abort(new Error('deadline'))
  }, 100)
  await assert.rejects(pending, /deadline/)
})

test('a peer that closes: ERR_PEER_CLOSED', async (t) => {
  const { socket } = await peer(t, undefined)
  const pending = handshake(socket, to(), new AbortController().signal)
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
