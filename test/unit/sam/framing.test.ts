import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { createLineFramer } from '../../../src/sam/framing.js'

describe('line framer', () => {
  test('lines split byte by byte come out whole, once', () => {
    const framer = createLineFramer()
    const wire = Buffer.from('HELLO REPLY RESULT=OK VERSION=3.3\nSTREAM STATUS RESULT=OK\n')
    const lines: string[] = []
    for (const byte of wire) lines.push(...framer.push(Buffer.from([byte])))
    assert.deepEqual(lines, ['HELLO REPLY RESULT=OK VERSION=3.3', 'STREAM STATUS RESULT=OK'])
    assert.equal(framer.bufferedBytes, 0)
  })

  test('several replies merged into one chunk, remainder kept for the next chunk', () => {
    const framer = createLineFramer()
    assert.deepEqual(framer.push(Buffer.from('A B\nC D\nE F')), ['A B', 'C D'])
    assert.deepEqual(framer.push(Buffer.from(' G\n')), ['E F G'])
  })

  test('CRLF line endings: the CR is stripped, a lone inner CR is kept', () => {
    const framer = createLineFramer()
    assert.deepEqual(framer.push(Buffer.from('A B\r\nC\rD\n\r\n')), ['A B', 'C\rD', ''])
  })

  test('a CR and LF split across chunks', () => {
    const framer = createLineFramer()
    assert.deepEqual(framer.push(Buffer.from('X Y\r')), [])
    assert.deepEqual(framer.push(Buffer.from('\n')), ['X Y'])
  })

  test('a multi-byte UTF-8 character split across chunks decodes whole', () => {
    const framer = createLineFramer()
    const bytes = Buffer.from('M é\n')
    assert.deepEqual(framer.push(bytes.subarray(0, 3)), [])
    assert.deepEqual(framer.push(bytes.subarray(3)), ['M é'])
  })

  test('nextLine() stops at each line and takeRemainder() returns exactly the bytes after it', () => {
    const framer = createLineFramer()
    framer.append(Buffer.from('STREAM STATUS RESULT=OK\nraw\nbytes\x00\xff'))
    assert.equal(framer.nextLine(), 'STREAM STATUS RESULT=OK')
    assert.deepEqual(framer.takeRemainder(), Buffer.from('raw\nbytes\x00\xff'))
    assert.equal(framer.bufferedBytes, 0)
    assert.equal(framer.nextLine(), undefined)
  })

  test('an over-long line without LF -> ERR_SAM_LINE_TOO_LONG, without buffering it all', () => {
    const framer = createLineFramer({ maxLineBytes: 16 })
    assert.deepEqual(framer.push(Buffer.alloc(16, 0x41)), [])
    assert.throws(
      () => framer.push(Buffer.from('A')),
      (err) => isPRouterError(err, 'ERR_SAM_LINE_TOO_LONG'),
    )
    assert.equal(framer.bufferedBytes, 0, 'the framer drops what it held')
    assert.deepEqual(framer.push(Buffer.from('ok\n')), ['ok'], 'and does not crash afterwards')
  })

  test('an over-long line that arrives whole with its LF is refused too', () => {
    const framer = createLineFramer({ maxLineBytes: 8 })
    assert.deepEqual(framer.push(Buffer.from('12345678\n')), ['12345678'])
    assert.throws(
      () => framer.push(Buffer.from('123456789\n')),
      (err) => isPRouterError(err, 'ERR_SAM_LINE_TOO_LONG'),
    )
  })

  test('a large raw tail after a short line is not mistaken for a long line', () => {
    const framer = createLineFramer({ maxLineBytes: 32 })
    framer.append(Buffer.concat([Buffer.from('STREAM STATUS RESULT=OK\n'), Buffer.alloc(1024, 0x41)]))
    assert.equal(framer.nextLine(), 'STREAM STATUS RESULT=OK')
    assert.equal(framer.takeRemainder().length, 1024)
  })

  test('maxLineBytes is validated', () => {
    assert.throws(
      () => createLineFramer({ maxLineBytes: 0 }),
      (err) => isPRouterError(err, 'ERR_INVALID_OPTION'),
    )
  })
})
