import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'
import { createSamSession } from '../../../src/sam/session.js'
import type { SamSessionInit } from '../../../src/sam/session-options.js'
import { captureLogger, serializeLogs } from '../../helpers/capture-logger.js'
import { startFakeSamBridge, steps, type BridgeScript } from '../../helpers/fake-sam-bridge.js'
import { fakeKeys } from '../../helpers/sam-keys.js'
import { readBytes } from '../../helpers/read-bytes.js'
import { echoes, sessionOnFakeBridge, sessionScript } from '../../helpers/sam-session.js'

const logger = silentLogger()
const code = (expected: string) => (err: unknown) => isPRouterError(err) && err.code === expected
const own = fakeKeys(1)
const peer = fakeKeys(2)

const connectOk = (...after: (string | Buffer)[]): BridgeScript => [
  steps.hello(),
  steps.streamOk(/^STREAM CONNECT ID=test DESTINATION=\S+ SILENT=false$/, ...after),
]

describe('SAM session: create', () => {
  test('SESSION CREATE carries the pinned defaults; the session knows its keys', async (t) => {
    const { bridge, session } = await sessionOnFakeBridge(t, [])
    const line = bridge.received[0]?.[1] ?? ''
    assert.equal(
      line,
      'SESSION CREATE STYLE=STREAM ID=test DESTINATION=TRANSIENT SIGNATURE_TYPE=7 ' +
        'inbound.length=3 inbound.quantity=3 inbound.lengthVariance=0 ' +
        'outbound.length=3 outbound.quantity=3 outbound.lengthVariance=0',
    )
    assert.equal(session.id, 'test')
    assert.equal(session.version, '3.3')
    assert.equal(session.destination, own.destination)
    assert.equal(session.privateKey, own.privateKey)
    assert.equal(session.b32, own.b32)
    assert.doesNotMatch(
      JSON.stringify(session),
      new RegExp(own.privateKey.slice(500, 540)),
      'key not serialized',
    )
  })

  test('tunnels, a given private key and extra options go through; the key is never logged', async (t) => {
    const bridge = await startFakeSamBridge([sessionScript('keyed')])
    t.after(() => bridge.close())
    const capture = captureLogger()
    const session = await createSamSession(
      {
        sam: bridge.address,
        id: 'keyed',
        destination: own.privateKey,
        tunnels: {
          inbound: { length: 0, quantity: 2, backupQuantity: 1 },
          outbound: { length: 1, lengthVariance: 1 },
        },
        options: { 'i2cp.leaseSetEncType': '4,0', 'i2p.streaming.initialAckDelay': '1' },
      },
      { logger: capture },
    )
    t.after(() => {
      session.destroy()
    })
    const line = bridge.received[0]?.[1] ?? ''
    assert.ok(line.includes(`DESTINATION=${own.privateKey} `))
    for (const pair of [
      'inbound.length=0',
      'inbound.quantity=2',
      'inbound.lengthVariance=0',
      'inbound.backupQuantity=1',
      'outbound.length=1',
      'outbound.lengthVariance=1',
      'i2cp.leaseSetEncType=4,0',
      'i2p.streaming.initialAckDelay=1',
    ]) {
      assert.ok(line.split(' ').includes(pair), pair)
    }
    const logs = serializeLogs(capture.records)
    assert.ok(logs.includes('SESSION CREATE'), 'the command was logged (redacted)')
    assert.ok(!logs.includes(own.privateKey.slice(600, 640)), 'but never the private key')
  })

  test('invalid options are refused before any connection, naming the option', async (t) => {
    const bridge = await startFakeSamBridge([])
    t.after(() => bridge.close())
    const bad: [Partial<SamSessionInit>, RegExp, string][] = [
      [{ tunnels: { inbound: { length: 8 } } }, /tunnels\.inbound\.length/, 'ERR_INVALID_OPTION'],
      [{ tunnels: { outbound: { quantity: 0 } } }, /tunnels\.outbound\.quantity/, 'ERR_INVALID_OPTION'],
      [{ tunnels: { inbound: { length: 1.5 } } }, /tunnels\.inbound\.length/, 'ERR_INVALID_OPTION'],
      [{ tunnels: { inbound: { lenght: 1 } as never } }, /tunnels\.inbound\.lenght/, 'ERR_INVALID_OPTION'],
      [{ id: 'has space' }, /\bid\b/, 'ERR_INVALID_OPTION'],
      [{ destination: 'not-a-key' }, /destination/, 'ERR_INVALID_OPTION'],
      [{ destination: own.destination }, /destination/, 'ERR_INVALID_OPTION'],
      [{ signatureType: -1 }, /signatureType/, 'ERR_INVALID_OPTION'],
      [{ createTimeout: 0 }, /createTimeout/, 'ERR_INVALID_OPTION'],
      [{ options: { STYLE: 'RAW' } }, /options\.STYLE/, 'ERR_INVALID_OPTION'],
      [{ options: { 'inbound.length': '0' } }, /options\.inbound\.length/, 'ERR_INVALID_OPTION'],
      [{ options: { 'i2cp.x': 'a\nSESSION CREATE' } }, /i2cp\.x/, 'ERR_SAM_UNSAFE_VALUE'],
      [{ options: { 'i2cp.x y': '1' } }, /i2cp\.x y/, 'ERR_SAM_UNSAFE_VALUE'],
    ]
    for (const [init, name, expected] of bad) {
      await assert.rejects(
        createSamSession({ sam: bridge.address, ...init }, { logger }),
        (err) => isPRouterError(err) && err.code === expected && name.test(err.message),
        JSON.stringify(init),
      )
    }
    assert.equal(bridge.connections, 0)
  })

  test('a RESULT other than OK becomes its typed error', async (t) => {
    const bridge = await startFakeSamBridge([
      [steps.hello(), steps.reply(/^SESSION CREATE/, 'SESSION STATUS RESULT=DUPLICATED_ID')],
    ])
    t.after(() => bridge.close())
    await assert.rejects(createSamSession({ sam: bridge.address }, { logger }), code('ERR_SAM_DUPLICATED_ID'))
  })

  test('SESSION CREATE that outlives createTimeout -> ERR_SAM_TIMEOUT; abort -> the reason', async (t) => {
    const bridge = await startFakeSamBridge(() => [steps.hello(), { expect: /^SESSION CREATE/, send: [] }])
    t.after(() => bridge.close())
    await assert.rejects(
      createSamSession({ sam: bridge.address, createTimeout: 50 }, { logger }),
      code('ERR_SAM_TIMEOUT'),
    )
    const reason = new Error('shutting down')
    const controller = new AbortController()
    setTimeout(() => {
      controller.abort(reason)
    }, 50)
    await assert.rejects(
      createSamSession({ sam: bridge.address }, { logger }, { signal: controller.signal }),
      (err) => err === reason,
    )
  })
})

describe('SAM session: streams', () => {
  test('connect opens a fresh connection and returns a raw socket; same-chunk bytes are not lost', async (t) => {
    const { bridge, session } = await sessionOnFakeBridge(t, [connectOk(Buffer.from('hello from peer\n'))])
    const socket = await session.connect(peer.destination)
    assert.deepEqual(bridge.received[1], [
      'HELLO VERSION MIN=3.1 MAX=3.3',
      `STREAM CONNECT ID=test DESTINATION=${peer.destination} SILENT=false`,
    ])
    const first = await readBytes(socket, 16)
    assert.equal(first.toString(), 'hello from peer\n')
    assert.equal(await echoes(socket, 'echo me'), 'echo me')
  })

  test('connect to a destination carrying a command is refused before any I/O', async (t) => {
    const { bridge, session } = await sessionOnFakeBridge(t, [])
    await assert.rejects(session.connect(`${peer.destination}\nSESSION CREATE`), code('ERR_INVALID_ARGUMENT'))
    await assert.rejects(session.connect(`${peer.destination} ID=x`), code('ERR_INVALID_ARGUMENT'))
    assert.equal(bridge.connections, 1)
  })

  test('accept parses the peer line and keeps the bytes after it', async (t) => {
    const { session } = await sessionOnFakeBridge(t, [
      [
        steps.hello(),
        {
          expect: /^STREAM ACCEPT ID=test SILENT=false$/,
          send: [
            'STREAM STATUS RESULT=OK',
            `${peer.destination} FROM_PORT=7 TO_PORT=9`,
            Buffer.from('GET / HTTP/1.1\r\n'),
          ],
          echo: true,
        },
      ],
    ])
    const accepted = await session.accept()
    assert.equal(accepted.peerDestination, peer.destination)
    assert.equal(accepted.peerB32, peer.b32)
    assert.equal(accepted.fromPort, 7)
    assert.equal(accepted.toPort, 9)
    assert.equal((await readBytes(accepted.stream, 16)).toString(), 'GET / HTTP/1.1\r\n')
  })

  test('accept with the status, the peer line and the payload in tiny chunks', async (t) => {
    const { session } = await sessionOnFakeBridge(t, [
      [
        steps.hello(),
        { expect: /^STREAM ACCEPT/, send: ['STREAM STATUS RESULT=OK'], chunkSize: 2, chunkDelay: 1 },
        { delay: 20, send: [peer.destination, Buffer.from('abc')], chunkSize: 37, chunkDelay: 1, echo: true },
      ],
    ])
    const accepted = await session.accept()
    assert.equal(accepted.peerDestination, peer.destination)
    assert.equal(accepted.fromPort, undefined)
    assert.equal((await readBytes(accepted.stream, 3)).toString(), 'abc')
  })

  test('a peer line without a valid destination -> ERR_SAM_PROTOCOL', async (t) => {
    const { session } = await sessionOnFakeBridge(t, [
      [steps.hello(), { expect: /^STREAM ACCEPT/, send: ['STREAM STATUS RESULT=OK', 'not-a-destination'] }],
    ])
    await assert.rejects(session.accept(), code('ERR_SAM_PROTOCOL'))
  })

  test('CANT_REACH_PEER (LeaseSet not found) is retried, then the connect succeeds', async (t) => {
    const cantReach: BridgeScript = [
      steps.hello(),
      steps.reply(/^STREAM CONNECT/, 'STREAM STATUS RESULT=CANT_REACH_PEER MESSAGE="LeaseSet not found"'),
    ]
    const { bridge, session } = await sessionOnFakeBridge(t, [cantReach, cantReach, connectOk()])
    const socket = await session.connect(peer.destination, { retry: { delay: 5, maxDelay: 20 } })
    assert.equal(await echoes(socket, 'after retry'), 'after retry')
    assert.equal(bridge.connections, 4, 'one session connection and three attempts')
  })

  test('other errors are not retried; retry: false gives a single attempt', async (t) => {
    const reply = (result: string): BridgeScript => [
      steps.hello(),
      steps.reply(/^STREAM CONNECT/, `STREAM STATUS RESULT=${result}`),
    ]
    const { bridge, session } = await sessionOnFakeBridge(t, [reply('INVALID_KEY'), reply('CANT_REACH_PEER')])
    await assert.rejects(
      session.connect(peer.destination, { retry: { delay: 1 } }),
      code('ERR_SAM_INVALID_KEY'),
    )
    await assert.rejects(session.connect(peer.destination, { retry: false }), code('ERR_SAM_CANT_REACH_PEER'))
    assert.equal(bridge.connections, 3)
  })

  test('many concurrent connects on one session', async (t) => {
    const { session } = await sessionOnFakeBridge(t, () => connectOk())
    const sockets = await Promise.all(Array.from({ length: 25 }, () => session.connect(peer.destination)))
    const replies = await Promise.all(sockets.map((socket, i) => echoes(socket, `stream ${i}`)))
    assert.deepEqual(
      replies,
      sockets.map((_, i) => `stream ${i}`),
    )
  })

  test('lookup: VALUE on OK, the typed error otherwise', async (t) => {
    const bridge = await startFakeSamBridge([
      sessionScript('test', [
        steps.reply(/^NAMING LOOKUP NAME=ME$/, `NAMING REPLY RESULT=OK NAME=ME VALUE=${own.destination}`),
        steps.reply(/^NAMING LOOKUP NAME=nobody\.i2p$/, 'NAMING REPLY RESULT=KEY_NOT_FOUND NAME=nobody.i2p'),
      ]),
    ])
    t.after(() => bridge.close())
    const session = await createSamSession({ sam: bridge.address, id: 'test' }, { logger })
    t.after(() => {
      session.destroy()
    })
    assert.equal(await session.lookup('ME'), own.destination)
    await assert.rejects(session.lookup('nobody.i2p'), code('ERR_SAM_KEY_NOT_FOUND'))
  })
})

describe('SAM session: lifecycle', () => {
  test('destroy() destroys handed-out streams and pending accepts; later calls are refused', async (t) => {
    const { session } = await sessionOnFakeBridge(t, [
      connectOk(),
      [steps.hello(), { expect: /^STREAM ACCEPT/, send: ['STREAM STATUS RESULT=OK'] }],
    ])
    const socket = await session.connect(peer.destination)
    const accepting = session.accept()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const socketClosed = new Promise((resolve) => socket.once('close', resolve))
    session.destroy()
    await assert.rejects(accepting, code('ERR_SAM_CLOSED'))
    await socketClosed
    await session.closed
    await assert.rejects(session.connect(peer.destination), code('ERR_SAM_SESSION_CLOSED'))
    await assert.rejects(session.accept(), code('ERR_SAM_SESSION_CLOSED'))
  })

  test('the control connection dying ends the session: closed resolves, pending accepts fail', async (t) => {
    const bridge = await startFakeSamBridge((i) =>
      i === 0
        ? [...sessionScript(), { delay: 100, close: true }]
        : [steps.hello(), { expect: /^STREAM ACCEPT/, send: ['STREAM STATUS RESULT=OK'] }],
    )
    t.after(() => bridge.close())
    const session = await createSamSession({ sam: bridge.address, id: 'test' }, { logger })
    t.after(() => {
      session.destroy()
    })
    const accepting = session.accept()
    await session.closed
    await assert.rejects(accepting, code('ERR_SAM_CLOSED'))
    await assert.rejects(session.lookup('ME'), code('ERR_SAM_SESSION_CLOSED'))
  })

  test('close() ends the session and its streams gracefully', async (t) => {
    const { session } = await sessionOnFakeBridge(t, [connectOk()])
    const socket = await session.connect(peer.destination)
    const socketClosed = new Promise((resolve) => socket.once('close', resolve))
    await session.close()
    await socketClosed
    await session.close() // idempotent
    await assert.rejects(session.connect(peer.destination), code('ERR_SAM_SESSION_CLOSED'))
  })

  test('an aborted connect rejects with the caller reason', async (t) => {
    const { session } = await sessionOnFakeBridge(t, () => [
      steps.hello(),
      { expect: /^STREAM CONNECT/, send: [] },
    ])
    const reason = new Error('request cancelled')
    const controller = new AbortController()
    const connecting = session.connect(peer.destination, { signal: controller.signal })
    setTimeout(() => {
      controller.abort(reason)
    }, 50)
    await assert.rejects(connecting, (err) => err === reason)
    await assert.rejects(
      session.connect(peer.destination, { timeout: 50, retry: false }),
      code('ERR_SAM_TIMEOUT'),
    )
  })
})
