import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeCompactU32, ScaleError, ScaleReader } from '../../../src/identity/scale.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const read = (h: string): number => new ScaleReader(Buffer.from(h, 'hex')).compactU32('n')

// Compact<u32>, written out by hand from the mode table: value << 2 | mode, little-endian.
const VECTORS: [number, string][] = [
  [0, '00'],
  [1, '04'], // 1 << 2
  [42, 'a8'], // 42 << 2 = 0xa8
  [63, 'fc'], // largest single-byte value
  [64, '0101'], // 64 << 2 | 0b01 = 0x0101
  [69, '1501'], // 69 << 2 | 1 = 0x0115
  [16383, 'fdff'], // largest two-byte value: 0xfffd
  [16384, '02000100'], // 16384 << 2 | 0b10 = 0x00010002
  [65535, 'feff0300'], // 0x0003fffe
  [2 ** 30 - 1, 'feffffff'], // largest four-byte value
  [2 ** 30, '0300000040'], // big-integer mode, 4 bytes: 0x40000000
  [2 ** 32 - 1, '03ffffffff'],
]

test('compact u32: the mode edges encode as written out', () => {
  for (const [value, bytes] of VECTORS) assert.equal(hex(encodeCompactU32(value)), bytes, String(value))
})

test('compact u32: the same bytes decode back, consuming exactly them', () => {
  for (const [value, bytes] of VECTORS) {
    const r = new ScaleReader(Buffer.from(`${bytes}ee`, 'hex'))
    assert.equal(r.compactU32('n'), value, bytes)
    assert.equal(r.remaining, 1)
  }
})

test('compact u32: anything but the shortest form, more than u32, or truncated is refused', () => {
  const bad = [
    '0100', // 0 in two-byte mode
    'fd00', // 63 in two-byte mode
    '02000000', // 0 in four-byte mode
    'feff0000', // 16383 in four-byte mode
    '03ffffff3f', // 2^30 - 1 in big-integer mode
    '070000000001', // 5-byte big integer: past u32
    '01', // two-byte mode, one byte
    '02ffff', // four-byte mode, three bytes
    '03ffff', // big-integer mode, truncated
    '', // nothing
  ]
  for (const h of bad) assert.throws(() => read(h), ScaleError, h)
})

test('compact u32: the encoder refuses what is not a u32', () => {
  for (const v of [-1, 2 ** 32, 1.5, Number.NaN]) assert.throws(() => encodeCompactU32(v), RangeError)
})
