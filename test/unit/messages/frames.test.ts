import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { MESSAGE_FRAGMENT_BYTES } from '../../../src/constants.js'
import { isPRouterError } from '../../../src/errors.js'
import {
  DATA_HEADER_BYTES,
  decodeDatagram,
  decodeFrame,
  encodeAck,
  encodeBatch,
  fitsInBatch,
  fragment,
  MAX_BATCH_BYTES,
  MAX_WIRE_MESSAGE_BYTES,
  type DataFrame,
} from '../../../src/messages/frames.js'
import { createReassembly } from '../../../src/messages/reassembly.js'

const ID = '00112233445566778899aabbccddeeff'
const ID2 = 'ffeeddccbbaa99887766554433221100'
const F = MESSAGE_FRAGMENT_BYTES
const malformed = (err: unknown): boolean => isPRouterError(err, 'ERR_MESSAGE_MALFORMED')
const busy = (err: unknown): boolean => isPRouterError(err, 'ERR_MESSAGE_BUSY')
const data = (frame: Buffer): DataFrame => {
  const f = decodeFrame(frame)
  assert.equal(f.type, 'data')
  return f
}

test('a message is cut into full fragments and a last one, and put back together in any order', () => {
  const message = randomBytes(3 * F + 5)
  const frames = fragment(ID, message).map(data)
  assert.deepEqual(
    frames.map((f) => [f.index, f.count, f.total, f.bytes.length]),
    [0, 1, 2, 3].map((i) => [i, 4, message.length, i < 3 ? F : 5]),
  )
  const r = createReassembly()
  const order = [2, 0, 3, 0, 1] // a duplicate fragment is ignored
  const results = order.map((i) => r.add('peer', frames[i] as DataFrame, 0))
  assert.deepEqual(results.slice(0, 4), [undefined, undefined, undefined, undefined])
  assert.deepEqual(results[4], message)
  assert.equal(r.bytes, 0, 'nothing held once complete')
})

test('a fragment whose length, index or count does not follow from the total is ERR_MESSAGE_MALFORMED', () => {
  const [first] = fragment(ID, randomBytes(2 * F))
  assert.ok(first)
  const edit = (at: number, write: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(first)
    write(b)
    return at < 0 ? b.subarray(0, at) : b
  }
  const bad = [
    edit(-1, () => undefined), // short fragment
    edit(0, (b) => b.writeUInt16BE(2, 18)), // index == count
    edit(0, (b) => b.writeUInt16BE(60000, 20)), // huge count
    edit(0, (b) => b.writeUInt32BE(0xffffffff, 22)), // huge total
    edit(0, (b) => b.writeUInt32BE(0, 22)),
    edit(0, (b) => b.writeUInt8(0x03, 1)), // unknown type
    edit(0, (b) => b.writeUInt8(0x51, 0)), // not ours
    Buffer.alloc(DATA_HEADER_BYTES - 1, 0x50),
  ]
  for (const frame of bad) assert.throws(() => decodeFrame(frame), malformed)
  assert.throws(() => fragment(ID, Buffer.alloc(MAX_WIRE_MESSAGE_BYTES + 1)), isPRouterError)
})

test('acks round-trip with their status and code; a bad ack is malformed', () => {
  assert.deepEqual(decodeFrame(encodeAck(ID, 'delivered')), {
    type: 'ack',
    id: ID,
    status: 'delivered',
    code: '',
  })
  assert.deepEqual(decodeFrame(encodeAck(ID, 'refused', 'ERR_MESSAGE_SIGNATURE')), {
    type: 'ack',
    id: ID,
    status: 'refused',
    code: 'ERR_MESSAGE_SIGNATURE',
  })
  const wrong = encodeAck(ID, 'busy')
  wrong[18] = 9
  assert.throws(() => decodeFrame(wrong), malformed)
  assert.throws(() => encodeAck(ID, 'refused', 'bad code\n'), isPRouterError)
})

test('fragments that disagree on a message length are refused', () => {
  const r = createReassembly()
  const [a] = fragment(ID, randomBytes(2 * F)).map(data)
  const [, b] = fragment(ID, randomBytes(3 * F)).map(data)
  assert.ok(a && b)
  r.add('peer', a, 0)
  assert.throws(() => r.add('peer', b, 0), malformed)
})

test('reassembly memory is bounded per peer (messages, bytes) and in all; a full peer does not block others', () => {
  const first = (id: string, size: number): DataFrame => data(fragment(id, randomBytes(size))[0] as Buffer)
  const r = createReassembly({ perPeer: 2, bytesPerPeer: 5 * F, bytesTotal: 8 * F })
  r.add('m', first(ID, 2 * F), 0)
  r.add('m', first(ID2, 2 * F), 0)
  assert.throws(() => r.add('m', first('0'.repeat(32), 2 * F), 0), busy, 'third partial from one peer')
  const r2 = createReassembly({ perPeer: 10, bytesPerPeer: 5 * F, bytesTotal: 8 * F })
  r2.add('m', first(ID, 3 * F), 0)
  assert.throws(() => r2.add('m', first(ID2, 3 * F), 0), busy, 'bytes per peer')
  r2.add('n', first(ID2, 4 * F), 0)
  assert.throws(() => r2.add('o', first(ID, 2 * F), 0), busy, 'bytes in all')
  assert.equal(r2.bytes, 7 * F)
})

test('partial messages past the timeout are dropped, freeing their bytes', () => {
  const r = createReassembly({ timeout: 1000, perPeer: 1 })
  const frames = fragment(ID, randomBytes(2 * F)).map(data)
  r.add('m', frames[0] as DataFrame, 0)
  assert.equal(r.bytes, 2 * F)
  r.sweep(1001)
  assert.equal(r.bytes, 0)
  assert.equal(r.add('m', frames[1] as DataFrame, 1002), undefined, 'the rest starts a new partial')
  const other = data(fragment(ID2, randomBytes(2 * F))[0] as Buffer)
  assert.equal(r.add('m', other, 2003), undefined, 'the stale partial made room')
})

test('small frames go in one BATCH datagram and come out the same; a lone frame decodes as itself', () => {
  const small = [fragment(ID, Buffer.from('one'))[0], encodeAck(ID2, 'busy', 'ERR_RATE_LIMITED')] as Buffer[]
  const batch = encodeBatch(small)
  assert.ok(batch !== undefined)
  assert.deepEqual(
    decodeDatagram(batch),
    small.map((f) => decodeFrame(f)),
  )
  assert.deepEqual(decodeDatagram(small[0] as Buffer), [decodeFrame(small[0] as Buffer)])
})

test('a batch holds what fits under MAX_BATCH_BYTES and at most 255 frames', () => {
  const full = fragment(ID, randomBytes(F))[0] as Buffer
  const ack = encodeAck(ID2, 'delivered')
  assert.equal(fitsInBatch([full], ack), true, 'a full fragment and an ACK fit')
  assert.equal(fitsInBatch([full], full), false)
  assert.equal(encodeBatch([full, full]), undefined)
  const acks = Array.from({ length: 255 }, () => ack)
  assert.equal(fitsInBatch(acks, ack), false, '256 frames')
  assert.equal(encodeBatch([]), undefined)
  assert.ok((encodeBatch(acks)?.length ?? Infinity) <= MAX_BATCH_BYTES)
})

test('malformed batches are refused: short, long, a batch inside, empty, a bad frame inside, oversized', () => {
  const ack = encodeAck(ID, 'delivered')
  const good = encodeBatch([ack, ack]) as Buffer
  const nested = Buffer.concat([Buffer.from([0x50, 0x03, 0x01]), u16(good.length), good])
  const bad = [
    good.subarray(0, good.length - 1),
    Buffer.concat([good, Buffer.from([0])]),
    Buffer.from([0x50, 0x03, 0x00]),
    Buffer.from([0x50, 0x03, 0x02, 0x00, ack.length, ...ack]),
    nested,
    Buffer.concat([Buffer.from([0x50, 0x03, 0x01]), u16(3), Buffer.from([0x50, 0x09, 0x00])]),
    Buffer.concat([Buffer.from([0x50, 0x03, 0x01]), u16(MAX_BATCH_BYTES), Buffer.alloc(MAX_BATCH_BYTES)]),
  ]
  for (const datagram of bad)
    assert.throws(() => decodeDatagram(datagram), malformed, datagram.subarray(0, 8).toString('hex'))
})

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}
