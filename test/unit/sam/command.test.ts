import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import {
  destGenerateCommand,
  formatCommand,
  formatPong,
  helloCommand,
  namingLookupCommand,
  sessionCreateCommand,
  streamAcceptCommand,
  streamConnectCommand,
} from '../../../src/sam/command.js'
import { parseReply } from '../../../src/sam/reply.js'

const unsafe =
  (key?: string) =>
  (err: unknown): boolean =>
    isPRouterError(err, 'ERR_SAM_UNSAFE_VALUE') && (key === undefined || err.detail?.key === key)

describe('formatCommand', () => {
  test('one line, pairs in order, undefined skipped, booleans and numbers as text', () => {
    assert.equal(
      formatCommand('STREAM', 'CONNECT', {
        ID: 's1',
        DESTINATION: 'ab==',
        SILENT: false,
        X: undefined,
        N: 7,
      }),
      'STREAM CONNECT ID=s1 DESTINATION=ab== SILENT=false N=7\n',
    )
    assert.equal(formatCommand('PING', ''), 'PING\n')
  })

  test('a value with spaces is quoted, and parses back to itself', () => {
    const line = formatCommand('SESSION', 'CREATE', { 'inbound.nickname': 'my node' })
    assert.equal(line, 'SESSION CREATE inbound.nickname="my node"\n')
    assert.equal(parseReply(line.trimEnd()).values['inbound.nickname'], 'my node')
  })

  test('injection through a value is refused, naming the key', () => {
    const attacks = [
      'x\n SESSION CREATE STYLE=STREAM ID=evil DESTINATION=TRANSIENT',
      'x\r\nQUIT',
      'x\u0000y',
      'x" EVIL="1',
      'a\tb',
    ]
    for (const value of attacks) {
      assert.throws(
        () => formatCommand('NAMING', 'LOOKUP', { NAME: value }),
        unsafe('NAME'),
        JSON.stringify(value),
      )
    }
  })

  test('keys with a space, "=", a quote, a control character or nothing are refused', () => {
    for (const key of ['A B', 'A=B', 'A"B', 'A\nB', '']) {
      assert.throws(() => formatCommand('X', 'Y', { [key]: '1' }), unsafe(key), JSON.stringify(key))
    }
  })

  test('a backslash in a value that needs quotes is refused (bridges differ on escapes)', () => {
    assert.throws(() => formatCommand('X', 'Y', { K: 'a \\ b' }), unsafe('K'))
    assert.equal(formatCommand('X', 'Y', { K: 'a\\b' }), 'X Y K=a\\b\n')
  })

  test('topic and verb must be plain words', () => {
    assert.throws(() => formatCommand('HELLO\nQUIT', 'VERSION'), unsafe())
    assert.throws(() => formatCommand('HELLO', 'VERSION X=1'), unsafe())
  })
})

describe('command builders', () => {
  test('wire formats and the replies they expect', () => {
    assert.deepEqual(helloCommand('3.1', '3.3'), {
      line: 'HELLO VERSION MIN=3.1 MAX=3.3\n',
      expect: { topic: 'HELLO', verb: 'REPLY' },
    })
    const create = sessionCreateCommand({
      id: 's1',
      destination: 'TRANSIENT',
      signatureType: 7,
      options: { 'inbound.length': '1' },
    })
    assert.equal(
      create.line,
      'SESSION CREATE STYLE=STREAM ID=s1 DESTINATION=TRANSIENT SIGNATURE_TYPE=7 inbound.length=1\n',
    )
    assert.deepEqual(create.expect, { topic: 'SESSION', verb: 'STATUS' })
    assert.equal(
      streamConnectCommand('s1', 'ab==').line,
      'STREAM CONNECT ID=s1 DESTINATION=ab== SILENT=false\n',
    )
    assert.equal(streamAcceptCommand('s1').line, 'STREAM ACCEPT ID=s1 SILENT=false\n')
    assert.deepEqual(streamAcceptCommand('s1').expect, { topic: 'STREAM', verb: 'STATUS' })
    assert.equal(namingLookupCommand('ME').line, 'NAMING LOOKUP NAME=ME\n')
    assert.equal(destGenerateCommand(7).line, 'DEST GENERATE SIGNATURE_TYPE=7\n')
  })

  test('a destination argument carrying a second command is refused', () => {
    assert.throws(
      () => streamConnectCommand('s1', 'ab==\nSESSION CREATE STYLE=STREAM'),
      unsafe('DESTINATION'),
    )
    assert.throws(() => streamConnectCommand('s1 ID=evil', 'ab=='), unsafe())
  })

  test('PONG echoes the text, refuses control characters', () => {
    assert.equal(formatPong('123 abc'), 'PONG 123 abc\n')
    assert.equal(formatPong(''), 'PONG\n')
    assert.throws(() => formatPong('a\nb'), unsafe())
  })
})

describe('i2pd splits at every space, quotes or not', () => {
  test('a spaced value that would smuggle a pair past i2pd is refused', () => {
    assert.throws(() => formatCommand('NAMING', 'LOOKUP', { NAME: 'x DESTINATION=evil' }), unsafe('NAME'))
    assert.throws(() => formatCommand('SESSION', 'CREATE', { 'i2cp.x': 'a =b' }), unsafe('i2cp.x'))
  })
})
