import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'
import { namingLookupCommand, streamAcceptCommand, streamConnectCommand } from '../../../src/sam/command.js'
import {
  openControlSocket,
  STATES,
  type ControlSocketInit,
  type SamControlSocket,
} from '../../../src/sam/control-socket.js'
import {
  startFakeSamBridge,
  steps,
  type BridgeScript,
  type FakeSamBridge,
} from '../../helpers/fake-sam-bridge.js'
import { readBytes } from '../../helpers/read-bytes.js'

const logger = silentLogger()
const lookup = namingLookupCommand('peer.i2p')
const code = (expected: string) => (err: unknown) => isPRouterError(err) && err.code === expected
const NAMING_OK = 'NAMING REPLY RESULT=OK NAME=peer.i2p VALUE=abc=='

async function bridgeFor(t: TestContext, ...scripts: BridgeScript[]): Promise<FakeSamBridge> {
  const bridge = await startFakeSamBridge(scripts)
  t.after(() => bridge.close())
  return bridge
}

async function open(
  t: TestContext,
  bridge: FakeSamBridge,
  init: Partial<ControlSocketInit> = {},
): Promise<SamControlSocket> {
  const control = await openControlSocket({ sam: bridge.address, ...init }, { logger }, { timeout: 5000 })
  t.after(() => {
    control.destroy()
  })
  return control
}

describe('control socket: handshake and framing', () => {
  test('HELLO negotiates the version; the socket is ready', async (t) => {
    const bridge = await bridgeFor(t, [steps.hello('3.3')])
    const control = await open(t, bridge)
    assert.equal(control.version, '3.3')
    assert.equal(control.state, STATES.READY)
    assert.deepEqual(bridge.received[0], ['HELLO VERSION MIN=3.1 MAX=3.3'])
  })

  test('a reply split into 1-byte chunks', async (t) => {
    const bridge = await bridgeFor(t, [{ ...steps.hello(), chunkSize: 1, chunkDelay: 1 }])
    assert.equal((await open(t, bridge)).version, '3.3')
  })

  test('a reply merged with a PING in one chunk: the PING is answered with PONG', async (t) => {
    const bridge = await bridgeFor(t, [
      { expect: /^HELLO/, send: ['HELLO REPLY RESULT=OK VERSION=3.2', 'PING 42 x'] },
      { expect: /^PONG 42 x$/, send: [] },
      steps.reply(/^NAMING LOOKUP NAME=peer\.i2p$/, NAMING_OK),
    ])
    const control = await open(t, bridge)
    const reply = await control.command(lookup)
    assert.equal(reply.values.VALUE, 'abc==')
    assert.deepEqual(bridge.failures, [])
  })

  test('a PING while a command waits for its reply', async (t) => {
    const bridge = await bridgeFor(t, [
      steps.hello(),
      { expect: /^NAMING LOOKUP/, send: ['PING'] },
      { expect: /^PONG$/, send: [NAMING_OK], chunkSize: 5, chunkDelay: 1 },
    ])
    const reply = await (await open(t, bridge)).command(lookup)
    assert.equal(reply.values.RESULT, 'OK')
  })

  test('CRLF line endings from the bridge', async (t) => {
    const bridge = await bridgeFor(t, [
      { expect: /^HELLO/, send: [Buffer.from('HELLO REPLY RESULT=OK VERSION=3.1\r\n')] },
    ])
    assert.equal((await open(t, bridge)).version, '3.1')
  })

  test('NOVERSION -> ERR_SAM_NO_VERSION', async (t) => {
    const bridge = await bridgeFor(t, [steps.reply(/^HELLO/, 'HELLO REPLY RESULT=NOVERSION')])
    await assert.rejects(openControlSocket({ sam: bridge.address }, { logger }), code('ERR_SAM_NO_VERSION'))
  })

  test('garbage: an unterminated quote -> ERR_SAM_PROTOCOL with the raw line', async (t) => {
    const bridge = await bridgeFor(t, [steps.reply(/^HELLO/, 'HELLO REPLY RESULT=OK MESSAGE="oops')])
    await assert.rejects(
      openControlSocket({ sam: bridge.address }, { logger }),
      (err) =>
        isPRouterError(err, 'ERR_SAM_PROTOCOL') && err.detail?.raw === 'HELLO REPLY RESULT=OK MESSAGE="oops',
    )
  })

  test('garbage: endless bytes without a line end -> ERR_SAM_LINE_TOO_LONG, connection dropped', async (t) => {
    const bridge = await bridgeFor(t, [
      { expect: /^HELLO/, send: [Buffer.alloc(4096, 0x41)], chunkSize: 512 },
    ])
    await assert.rejects(
      openControlSocket({ sam: bridge.address, maxLineBytes: 1024 }, { logger }),
      code('ERR_SAM_LINE_TOO_LONG'),
    )
  })

  test('a reply to another command -> ERR_SAM_PROTOCOL', async (t) => {
    const bridge = await bridgeFor(t, [steps.reply(/^HELLO/, 'STREAM STATUS RESULT=OK')])
    await assert.rejects(openControlSocket({ sam: bridge.address }, { logger }), code('ERR_SAM_PROTOCOL'))
  })

  test('the bridge closes mid-reply -> ERR_SAM_CLOSED', async (t) => {
    const bridge = await bridgeFor(t, [
      { expect: /^HELLO/, send: ['HELLO REPLY RESULT=OK VERSION=3.3'], closeAfterBytes: 12 },
    ])
    await assert.rejects(openControlSocket({ sam: bridge.address }, { logger }), code('ERR_SAM_CLOSED'))
  })

  test('nothing listening -> ERR_SAM_CONNECT naming host:port', async () => {
    const bridge = await startFakeSamBridge([])
    await bridge.close()
    await assert.rejects(
      openControlSocket({ sam: bridge.address }, { logger }),
      (err) => isPRouterError(err, 'ERR_SAM_CONNECT') && err.message.includes(`127.0.0.1:${bridge.port}`),
    )
  })

  test('an invalid port is refused before any I/O, naming the option', async () => {
    await assert.rejects(
      openControlSocket({ sam: { host: '127.0.0.1', port: 70000 } }, { logger }),
      (err) => isPRouterError(err, 'ERR_INVALID_OPTION') && err.message.includes('sam.port'),
    )
  })
})

describe('control socket: the request FIFO', () => {
  test('timeout and abort are different errors', async (t) => {
    const bridge = await bridgeFor(t, [steps.hello(), { expect: /^NAMING/, send: [] }])
    const control = await open(t, bridge)
    await assert.rejects(control.command(lookup, { timeout: 50 }), code('ERR_SAM_TIMEOUT'))
    const controller = new AbortController()
    const reason = new Error('caller went away')
    const pending = control.command(lookup, { signal: controller.signal })
    controller.abort(reason)
    await assert.rejects(pending, (err) => err === reason)
    const already = AbortSignal.abort(reason)
    await assert.rejects(control.command(lookup, { signal: already }), (err) => err === reason)
  })

  test('a late reply to a timed-out command is dropped; the next command gets its own reply', async (t) => {
    const bridge = await bridgeFor(t, [
      steps.hello(),
      {
        expect: /^NAMING LOOKUP NAME=first$/,
        delay: 150,
        send: ['NAMING REPLY RESULT=OK NAME=first VALUE=one'],
      },
      steps.reply(/^NAMING LOOKUP NAME=second$/, 'NAMING REPLY RESULT=OK NAME=second VALUE=two'),
    ])
    const control = await open(t, bridge)
    const first = control.command(namingLookupCommand('first'), { timeout: 50 })
    const second = control.command(namingLookupCommand('second'))
    await assert.rejects(first, code('ERR_SAM_TIMEOUT'))
    assert.equal((await second).values.VALUE, 'two')
    assert.deepEqual(bridge.received[0], [
      'HELLO VERSION MIN=3.1 MAX=3.3',
      'NAMING LOOKUP NAME=first',
      'NAMING LOOKUP NAME=second',
    ])
  })

  test('one command on the wire at a time, replies in order', async (t) => {
    const bridge = await bridgeFor(t, [
      steps.hello(),
      steps.reply(/NAME=a$/, 'NAMING REPLY RESULT=OK NAME=a VALUE=1'),
      steps.reply(/NAME=b$/, 'NAMING REPLY RESULT=KEY_NOT_FOUND NAME=b'),
      steps.reply(/NAME=c$/, 'NAMING REPLY RESULT=OK NAME=c VALUE=3'),
    ])
    const control = await open(t, bridge)
    const replies = await Promise.all(
      ['a', 'b', 'c'].map((name) => control.command(namingLookupCommand(name))),
    )
    assert.deepEqual(
      replies.map((r) => r.values.RESULT),
      ['OK', 'KEY_NOT_FOUND', 'OK'],
    )
  })

  test('the connection closing rejects every pending request with ERR_SAM_CLOSED', async (t) => {
    const bridge = await bridgeFor(t, [steps.hello(), { expect: /^NAMING/, delay: 50, close: true }])
    const control = await open(t, bridge)
    const pending = [control.command(lookup), control.command(lookup), control.command(lookup)]
    const results = await Promise.allSettled(pending)
    for (const result of results) {
      assert.equal(result.status, 'rejected')
      assert.ok(isPRouterError(result.reason, 'ERR_SAM_CLOSED'))
    }
    await control.closed
    assert.equal(control.state, STATES.CLOSED)
  })

  test('destroy() rejects pending requests at once', async (t) => {
    const bridge = await bridgeFor(t, [steps.hello(), { expect: /^NAMING/, send: [] }])
    const control = await open(t, bridge)
    const pending = control.command(lookup)
    control.destroy()
    await assert.rejects(pending, code('ERR_SAM_CLOSED'))
    await control.closed
  })

  test('close() lets the pending command finish, then ends the connection', async (t) => {
    const bridge = await bridgeFor(t, [steps.hello(), { expect: /^NAMING/, delay: 50, send: [NAMING_OK] }])
    const control = await open(t, bridge)
    const pending = control.command(lookup)
    const closing = control.close()
    await assert.rejects(
      control.command(lookup),
      code('ERR_SAM_INVALID_STATE'),
      'no new command while closing',
    )
    assert.equal((await pending).values.RESULT, 'OK')
    await closing
    assert.equal(control.state, STATES.CLOSED)
  })

  test('wrong-state calls are refused', async (t) => {
    const bridge = await bridgeFor(t, [steps.hello(), { expect: /^NAMING/, send: [] }])
    const control = await open(t, bridge)
    const pending = control.command(lookup, { timeout: 5000 })
    await assert.rejects(
      control.streamConnect(streamConnectCommand('s', 'abc==')),
      code('ERR_SAM_INVALID_STATE'),
      'a stream command needs the connection to itself',
    )
    control.destroy()
    await assert.rejects(pending, code('ERR_SAM_CLOSED'))
    await assert.rejects(control.command(lookup), code('ERR_SAM_INVALID_STATE'))
  })
})

describe('control socket: switch to raw data', () => {
  test('STREAM CONNECT: bytes in the same chunk as the STATUS line are not lost', async (t) => {
    const bridge = await bridgeFor(t, [
      steps.hello(),
      steps.streamOk(
        /^STREAM CONNECT ID=s DESTINATION=abc== SILENT=false$/,
        Buffer.from('early\nbytes\n\x00\xff'),
      ),
    ])
    const control = await open(t, bridge)
    const socket = await control.streamConnect(streamConnectCommand('s', 'abc=='))
    t.after(() => socket.destroy())
    assert.equal(control.state, STATES.STREAMING)
    await assert.rejects(control.command(lookup), code('ERR_SAM_INVALID_STATE'), 'no command on a raw socket')
    const early = Buffer.from('early\nbytes\n\x00\xff')
    const received = readBytes(socket, early.length + 4)
    socket.write('ping')
    assert.deepEqual(await received, Buffer.concat([early, Buffer.from('ping')]))
  })

  test('STREAM CONNECT failure -> the mapped error, and the connection is dropped', async (t) => {
    const bridge = await bridgeFor(t, [
      steps.hello(),
      steps.reply(/^STREAM CONNECT/, 'STREAM STATUS RESULT=INVALID_KEY MESSAGE="bad destination"'),
    ])
    const control = await open(t, bridge)
    await assert.rejects(
      control.streamConnect(streamConnectCommand('s', 'abc==')),
      (err) => isPRouterError(err, 'ERR_SAM_INVALID_KEY') && err.detail?.message === 'bad destination',
    )
    await control.closed
  })

  test("i2pd's SESSION STATUS I2P_ERROR answer to a STREAM command is its error, not a protocol error", async (t) => {
    const bridge = await bridgeFor(t, [
      steps.hello(),
      steps.reply(/^STREAM ACCEPT/, 'SESSION STATUS RESULT=I2P_ERROR MESSAGE=Socket already in use'),
    ])
    const control = await open(t, bridge)
    await assert.rejects(
      control.streamAccept(streamAcceptCommand('s')),
      (err) => isPRouterError(err, 'ERR_SAM_I2P_ERROR') && err.detail?.message === 'Socket already in use',
    )
  })

  test('STREAM ACCEPT: the peer line is returned, the payload after it kept', async (t) => {
    const bridge = await bridgeFor(t, [
      steps.hello(),
      {
        expect: /^STREAM ACCEPT ID=s SILENT=false$/,
        send: ['STREAM STATUS RESULT=OK', 'peer== FROM_PORT=1 TO_PORT=2', Buffer.from('payload')],
        chunkSize: 3,
        chunkDelay: 1,
        echo: true,
      },
    ])
    const control = await open(t, bridge)
    const { socket, peerLine } = await control.streamAccept(streamAcceptCommand('s'))
    t.after(() => socket.destroy())
    assert.equal(peerLine, 'peer== FROM_PORT=1 TO_PORT=2')
    assert.equal((await readBytes(socket, 7)).toString(), 'payload')
  })

  test('aborting a pending STREAM ACCEPT drops its connection', async (t) => {
    const bridge = await bridgeFor(t, [
      steps.hello(),
      { expect: /^STREAM ACCEPT/, send: ['STREAM STATUS RESULT=OK'] },
    ])
    const control = await open(t, bridge)
    const controller = new AbortController()
    const accepting = control.streamAccept(streamAcceptCommand('s'), { signal: controller.signal })
    setTimeout(() => {
      controller.abort(new Error('stop'))
    }, 50)
    await assert.rejects(accepting, { message: 'stop' })
    await control.closed
    assert.equal(control.state, STATES.CLOSED)
  })
})
