/**
 * Payload bytes of a SAM stream, through the real SAM client against the scriptable fake bridge: bytes that
 * arrive in the same chunk as STREAM STATUS (and the ACCEPT peer line) are payload, the SAM lines are not;
 * bytes written after the hand-off count as written, HELLO and STREAM commands do not.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { payloadBytes } from '../../../src/sam/payload-bytes.js'
import {
  steps,
  type BridgeScript,
  type BridgeStep,
  type FakeSamBridge,
} from '../../helpers/fake-sam-bridge.js'
import { readBytes } from '../../helpers/read-bytes.js'
import { fakeKeys } from '../../helpers/sam-keys.js'
import { echoes, sessionOnFakeBridge } from '../../helpers/sam-session.js'

const peer = fakeKeys(2)
const PAYLOAD = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi')
const HELLO_REPLY = 'HELLO REPLY RESULT=OK VERSION=3.3\n'
const STATUS_OK = 'STREAM STATUS RESULT=OK\n'
const PEER_LINE = `${peer.destination} FROM_PORT=0 TO_PORT=0`

/** Write `text` and wait for the bridge's echo of it. */
async function echo(socket: net.Socket, text: string): Promise<void> {
  assert.equal(await echoes(socket, text), text)
}

/** The bytes the client wrote on the stream's connection before the hand-off (HELLO and the STREAM line). */
function commandBytes(bridge: FakeSamBridge): number {
  const lines = bridge.received[1] ?? []
  return lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0)
}

describe('payload bytes after STREAM CONNECT', () => {
  const connect = (reply: Partial<BridgeStep> = {}): BridgeScript => [
    steps.hello(),
    { ...steps.streamOk(/^STREAM CONNECT ID=test /, PAYLOAD), ...reply },
  ]

  test('payload in the same chunk as the reply is read payload; the SAM lines are not', async (t) => {
    const { bridge, session } = await sessionOnFakeBridge(t, () => connect())
    const socket = await session.connect(peer.destination, { retry: false })
    assert.deepEqual(await readBytes(socket, PAYLOAD.length), PAYLOAD)
    socket.removeAllListeners('data')
    assert.deepEqual(payloadBytes(socket), { read: PAYLOAD.length, written: 0 })
    // the socket itself counted the SAM lines too: they are what payloadBytes leaves out
    assert.equal(socket.bytesRead, HELLO_REPLY.length + STATUS_OK.length + PAYLOAD.length)
    assert.equal(socket.bytesWritten, commandBytes(bridge))
    assert.ok(commandBytes(bridge) > 0)
  })

  test('bytes written after the hand-off count as written (and their echo as read)', async (t) => {
    const { session } = await sessionOnFakeBridge(t, () => connect())
    const socket = await session.connect(peer.destination, { retry: false })
    await readBytes(socket, PAYLOAD.length)
    socket.removeAllListeners('data')
    await echo(socket, 'GET / HTTP/1.1\r\n\r\n')
    assert.deepEqual(payloadBytes(socket), { read: PAYLOAD.length + 18, written: 18 })
    socket.destroy()
    await once(socket, 'close')
    assert.deepEqual(payloadBytes(socket), { read: PAYLOAD.length + 18, written: 18 }, 'kept after the close')
  })

  test('a reply and payload dribbled in 3-byte chunks: exactly the payload is counted', async (t) => {
    const { session } = await sessionOnFakeBridge(t, () => connect({ chunkSize: 3, chunkDelay: 1 }))
    const socket = await session.connect(peer.destination, { retry: false })
    assert.deepEqual(await readBytes(socket, PAYLOAD.length), PAYLOAD)
    socket.removeAllListeners('data')
    assert.deepEqual(payloadBytes(socket), { read: PAYLOAD.length, written: 0 })
  })
})

describe('payload bytes after STREAM ACCEPT', () => {
  const accept = (extra: Partial<BridgeStep> = {}): BridgeScript => [
    steps.hello(),
    {
      expect: /^STREAM ACCEPT ID=test /,
      send: ['STREAM STATUS RESULT=OK', PEER_LINE, PAYLOAD],
      echo: true,
      ...extra,
    },
  ]

  test('status, peer line and payload in one chunk: only the payload is read payload', async (t) => {
    const { bridge, session } = await sessionOnFakeBridge(t, () => accept())
    const { stream, peerDestination } = await session.accept()
    assert.equal(peerDestination, peer.destination)
    assert.deepEqual(await readBytes(stream, PAYLOAD.length), PAYLOAD)
    stream.removeAllListeners('data')
    assert.deepEqual(payloadBytes(stream), { read: PAYLOAD.length, written: 0 })
    assert.equal(
      stream.bytesRead,
      HELLO_REPLY.length + STATUS_OK.length + PEER_LINE.length + 1 + PAYLOAD.length,
    )
    assert.equal(stream.bytesWritten, commandBytes(bridge))
    await echo(stream, 'pong')
    assert.deepEqual(payloadBytes(stream), { read: PAYLOAD.length + 4, written: 4 })
  })

  test('the peer line arriving after the status, payload with it', async (t) => {
    const { session } = await sessionOnFakeBridge(t, () => [
      steps.hello(),
      { expect: /^STREAM ACCEPT ID=test /, send: ['STREAM STATUS RESULT=OK'] },
      { delay: 10, send: [PEER_LINE, PAYLOAD], echo: true },
    ])
    const { stream } = await session.accept()
    assert.deepEqual(await readBytes(stream, PAYLOAD.length), PAYLOAD)
    stream.removeAllListeners('data')
    assert.deepEqual(payloadBytes(stream), { read: PAYLOAD.length, written: 0 })
  })
})

test('a socket never handed on as a stream has no payload bytes', async (t) => {
  const server = net.createServer((s) => s.end('hello'))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  t.after(() => socket.destroy())
  socket.write('x')
  socket.resume()
  await once(socket, 'end')
  assert.deepEqual(payloadBytes(socket), { read: 0, written: 0 })
})
