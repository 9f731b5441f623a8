import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { describe, test, type TestContext } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { isPRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'
import { datagramSessionCreateCommand } from '../../../src/sam/command.js'
import { createSamDatagramSession, type SamDatagramSession } from '../../../src/sam/datagram-session.js'
import {
  decodeForwardedDatagram,
  encodeDatagramSend,
  type ReceivedDatagram,
} from '../../../src/sam/datagram-wire.js'
import { MAX_SAM_DATAGRAM_PAYLOAD_BYTES } from '../../../src/constants.js'
import { startFakeSamBridge, steps, type BridgeStep } from '../../helpers/fake-sam-bridge.js'
import { fakeKeys, i2pBase64 } from '../../helpers/sam-keys.js'

const code = (expected: string) => (err: unknown) => isPRouterError(err) && err.code === expected
const own = fakeKeys(1)
const peer = fakeKeys(2)

describe('SAM datagrams: wire format', () => {
  test('a send packet is "3.0 <id> <destination>\\n" then the payload, byte for byte', () => {
    const payload = Buffer.from([0, 10, 13, 255, 10])
    const packet = encodeDatagramSend('dg-1', peer.destination, payload)
    const header = `3.0 dg-1 ${peer.destination}\n`
    assert.equal(packet.toString('latin1', 0, header.length), header)
    assert.deepEqual(packet.subarray(header.length), payload)
  })

  test('a send refuses what could inject a second line or field, and oversized payloads', () => {
    const injected = [`${peer.destination}\n3.0 other x`, `${peer.destination} FROM_PORT=1`, 'x.b32.i2p', '']
    for (const destination of injected) {
      assert.throws(
        () => encodeDatagramSend('dg', destination, Buffer.alloc(1)),
        code('ERR_INVALID_ARGUMENT'),
      )
    }
    assert.throws(
      () => encodeDatagramSend('a b', peer.destination, Buffer.alloc(1)),
      code('ERR_INVALID_ARGUMENT'),
    )
    const big = Buffer.alloc(MAX_SAM_DATAGRAM_PAYLOAD_BYTES + 1)
    assert.throws(() => encodeDatagramSend('dg', peer.destination, big), code('ERR_SAM_DATAGRAM_TOO_LARGE'))
    encodeDatagramSend('dg', peer.destination, big.subarray(1))
  })

  test('a forwarded datagram gives the sender and the payload, LF bytes in the payload kept', () => {
    const payload = Buffer.from('a\nb\n\n', 'latin1')
    const got = decodeForwardedDatagram(Buffer.concat([Buffer.from(`${peer.destination}\n`), payload]))
    assert.equal(got.destination, peer.destination)
    assert.equal(got.b32, peer.b32)
    assert.deepEqual(got.payload, payload)
    const empty = decodeForwardedDatagram(Buffer.from(`${peer.destination}\n`))
    assert.equal(empty.payload.length, 0)
  })

  test('malformed forwards are ERR_SAM_PROTOCOL', () => {
    const cases: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from(peer.destination), // no LF
      Buffer.from(`\npayload`), // empty sender
      Buffer.from(`${'A'.repeat(3000)}\nx`), // header past the limit
      Buffer.from(`${peer.destination.slice(0, -4)}!!!!\nx`), // not base64
      Buffer.from(`${i2pBase64(Buffer.alloc(30))}\nx`), // too short for a destination
      Buffer.from(`${own.privateKey}\nx`), // a private key: bytes past the certificate
      Buffer.from(`3.0 id ${peer.destination}\nx`), // a send packet, not a forward
    ]
    for (const packet of cases) assert.throws(() => decodeForwardedDatagram(packet), code('ERR_SAM_PROTOCOL'))
  })

  test('SESSION CREATE STYLE=DATAGRAM names the UDP forward', () => {
    const command = datagramSessionCreateCommand({
      id: 'dg',
      destination: 'TRANSIENT',
      signatureType: 7,
      options: { 'inbound.length': '1' },
      forward: { host: '127.0.0.1', port: 4567 },
    })
    assert.equal(
      command.line,
      'SESSION CREATE STYLE=DATAGRAM ID=dg DESTINATION=TRANSIENT SIGNATURE_TYPE=7 HOST=127.0.0.1 PORT=4567 inbound.length=1\n',
    )
  })
})

interface Fixture {
  session: SamDatagramSession
  bridgeUdp: dgram.Socket
  forwardPort: number
  received: ReceivedDatagram[]
}

const createOk = (reply = `SESSION STATUS RESULT=OK DESTINATION=${own.privateKey}`): BridgeStep =>
  steps.reply(/^SESSION CREATE STYLE=DATAGRAM ID=dg /, reply)

async function udpSocket(t: TestContext): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4')
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  t.after(() => socket.close())
  return socket
}

async function sessionOnFakeBridge(t: TestContext, create: BridgeStep = createOk()): Promise<Fixture> {
  const bridge = await startFakeSamBridge([[steps.hello(), create]])
  t.after(() => bridge.close())
  const bridgeUdp = await udpSocket(t)
  const received: ReceivedDatagram[] = []
  const session = await createSamDatagramSession(
    { sam: bridge.address, id: 'dg', udpPort: bridgeUdp.address().port, createTimeout: 2000 },
    { logger: silentLogger(), onDatagram: (d) => received.push(d) },
  )
  t.after(() => {
    session.destroy()
  })
  const port = /PORT=(\d+)/.exec(bridge.received[0]?.[1] ?? '')?.[1]
  assert.ok(port !== undefined, 'SESSION CREATE names a PORT')
  return { session, bridgeUdp, forwardPort: Number(port), received }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await delay(5)
  assert.ok(check(), 'condition met within 1 s')
}

describe('SAM datagram session on the fake bridge', () => {
  test('the session knows its keys; sends go to the bridge UDP port; forwards from it are delivered', async (t) => {
    const f = await sessionOnFakeBridge(t)
    assert.equal(f.session.destination, own.destination)
    assert.equal(f.session.b32, own.b32)
    const sent = once(f.bridgeUdp, 'message') as Promise<[Buffer]>
    await f.session.send(peer.destination, Buffer.from('hi'))
    assert.equal((await sent)[0].toString(), `3.0 dg ${peer.destination}\nhi`)
    f.bridgeUdp.send(Buffer.from(`${peer.destination}\nback`), f.forwardPort, '127.0.0.1')
    await until(() => f.received.length === 1)
    const [got] = f.received
    assert.equal(got?.b32, peer.b32)
    assert.equal(got.payload.toString(), 'back')
  })

  test('a packet from anyone but the bridge is dropped, as is a malformed forward', async (t) => {
    const f = await sessionOnFakeBridge(t)
    const stranger = await udpSocket(t)
    stranger.send(Buffer.from(`${peer.destination}\nforged`), f.forwardPort, '127.0.0.1')
    f.bridgeUdp.send(Buffer.from('no sender line'), f.forwardPort, '127.0.0.1')
    await until(() => f.session.dropped === 2)
    assert.equal(f.received.length, 0)
  })

  test('SESSION CREATE failures keep their codes; a reply without a usable key is ERR_SAM_PROTOCOL', async (t) => {
    const replies: [string, string][] = [
      ['SESSION STATUS RESULT=DUPLICATED_ID', 'ERR_SAM_DUPLICATED_ID'],
      ['SESSION STATUS RESULT=I2P_ERROR MESSAGE="Invalid port"', 'ERR_SAM_I2P_ERROR'],
      ['SESSION STATUS RESULT=OK', 'ERR_SAM_PROTOCOL'],
      ['SESSION STATUS RESULT=OK DESTINATION=abc', 'ERR_SAM_PROTOCOL'],
      [`SESSION STATUS RESULT=OK DESTINATION=${own.destination}`, 'ERR_SAM_PROTOCOL'],
      ['STREAM STATUS RESULT=OK', 'ERR_SAM_PROTOCOL'],
    ]
    for (const [reply, expected] of replies) {
      await assert.rejects(sessionOnFakeBridge(t, createOk(reply)), code(expected), reply)
    }
  })

  test('a SESSION STATUS split into 1-byte chunks still parses', async (t) => {
    const step: BridgeStep = {
      ...createOk(),
      chunkSize: 1,
      chunkDelay: 0,
    }
    const f = await sessionOnFakeBridge(t, step)
    assert.equal(f.session.b32, own.b32)
  })

  test('the session is gone when its control connection closes', async (t) => {
    const f = await sessionOnFakeBridge(t, { ...createOk(), close: false })
    f.session.destroy()
    await f.session.closed
    await assert.rejects(f.session.lookup(peer.b32), code('ERR_SAM_INVALID_STATE'))
  })
})
