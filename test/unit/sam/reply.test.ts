import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isPRouterError, PRouterError } from '../../../src/errors.js'
import { parsePeerLine, parseReply, redactSecrets } from '../../../src/sam/reply.js'

const protocolError = (err: unknown): boolean => isPRouterError(err, 'ERR_SAM_PROTOCOL')

describe('parseReply', () => {
  test('topic, verb and pairs', () => {
    const line = 'HELLO REPLY RESULT=OK VERSION=3.3'
    assert.deepEqual(parseReply(line), {
      topic: 'HELLO',
      verb: 'REPLY',
      values: { RESULT: 'OK', VERSION: '3.3' },
      raw: line,
    })
  })

  test('quoted values with spaces', () => {
    const reply = parseReply('STREAM STATUS RESULT=CANT_REACH_PEER MESSAGE="LeaseSet not found"')
    assert.equal(reply.topic, 'STREAM')
    assert.equal(reply.verb, 'STATUS')
    assert.deepEqual(reply.values, { RESULT: 'CANT_REACH_PEER', MESSAGE: 'LeaseSet not found' })
  })

  test('escaped quotes and backslashes inside quotes', () => {
    const reply = parseReply('SESSION STATUS RESULT=I2P_ERROR MESSAGE="bad \\"id\\" in C:\\\\x"')
    assert.equal(reply.values.MESSAGE, 'bad "id" in C:\\x')
  })

  test('an unquoted MESSAGE keeps the bare words after it (as i2pd sends some)', () => {
    const reply = parseReply('SESSION STATUS RESULT=I2P_ERROR MESSAGE=Socket already in use')
    assert.deepEqual(reply.values, { RESULT: 'I2P_ERROR', MESSAGE: 'Socket already in use' })
    const quoted = parseReply('STREAM STATUS MESSAGE="a b" FLAG RESULT=I2P_ERROR')
    assert.deepEqual(quoted.values, { MESSAGE: 'a b', FLAG: '', RESULT: 'I2P_ERROR' })
  })

  test('split at the first "=": base64 padding survives', () => {
    const reply = parseReply('NAMING REPLY RESULT=OK NAME=ME VALUE=abc~-def==')
    assert.equal(reply.values.VALUE, 'abc~-def==')
  })

  test('unknown keys are kept, a key without "=" gets ""', () => {
    const reply = parseReply('STREAM STATUS RESULT=OK FUTURE_KEY=1 FLAG')
    assert.deepEqual(reply.values, { RESULT: 'OK', FUTURE_KEY: '1', FLAG: '' })
  })

  test('extra blanks, a topic alone, an empty quoted value', () => {
    assert.deepEqual(parseReply('  DEST   REPLY\tPUB=a  PRIV=""  ').values, { PUB: 'a', PRIV: '' })
    assert.deepEqual(parseReply('PONG'), { topic: 'PONG', verb: '', values: {}, raw: 'PONG' })
    assert.equal(parseReply('X RESULT=OK').verb, '', 'a pair in second place is not a verb')
  })

  test('a hostile key cannot reach the prototype', () => {
    const reply = parseReply('X Y __proto__=polluted constructor=c')
    assert.equal(Object.getPrototypeOf(reply.values), Object.prototype)
    assert.equal(Object.getOwnPropertyDescriptor(reply.values, '__proto__')?.value, 'polluted')
  })

  test('malformed input -> ERR_SAM_PROTOCOL with the raw line in detail', () => {
    for (const line of [
      '',
      '   ',
      'STREAM STATUS MESSAGE="unterminated',
      'RESULT=OK',
      '"HELLO" REPLY',
      'A B =x',
    ]) {
      assert.throws(
        () => parseReply(line),
        (err) => protocolError(err) && (err as PRouterError).detail?.raw === line,
        JSON.stringify(line),
      )
    }
  })

  test('garbage never throws anything but PRouterError', () => {
    const garbage = ['\u0000\u0001\u0002', '====', '"""', '\\', 'a "b c', '\uffff"x', 'é=ü', '= = =']
    for (const line of garbage) {
      try {
        parseReply(line)
      } catch (err) {
        assert.ok(err instanceof PRouterError, JSON.stringify(line))
      }
    }
  })
})

describe('parsePeerLine', () => {
  test('destination alone, and with SAM 3.2 ports', () => {
    assert.deepEqual(parsePeerLine('abc=='), { destination: 'abc==', values: {}, raw: 'abc==' })
    const peer = parsePeerLine('abc~-== FROM_PORT=12 TO_PORT=34')
    assert.equal(peer.destination, 'abc~-==')
    assert.deepEqual(peer.values, { FROM_PORT: '12', TO_PORT: '34' })
  })

  test('an empty peer line is a protocol error', () => {
    assert.throws(() => parsePeerLine('  '), protocolError)
  })
})

describe('redactSecrets', () => {
  test('private keys in SESSION and DEST lines are replaced, other lines untouched', () => {
    assert.equal(
      redactSecrets('SESSION CREATE STYLE=STREAM ID=a DESTINATION=secret== SIGNATURE_TYPE=7'),
      'SESSION CREATE STYLE=STREAM ID=a DESTINATION=<redacted> SIGNATURE_TYPE=7',
    )
    assert.equal(redactSecrets('DEST REPLY PUB=pub== PRIV=priv=='), 'DEST REPLY PUB=pub== PRIV=<redacted>')
    assert.equal(
      redactSecrets('STREAM CONNECT ID=a DESTINATION=pub=='),
      'STREAM CONNECT ID=a DESTINATION=pub==',
    )
  })
})
