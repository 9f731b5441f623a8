import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as der from '../../../src/reseed/der.js'
import { isPRouterError } from '../../../src/errors.js'

const hex = (b: Buffer): string => b.toString('hex')

test('integers are minimal, with a zero byte only where the top bit is set', () => {
  assert.equal(hex(der.integer(0)), '020100')
  assert.equal(hex(der.integer(127)), '02017f')
  assert.equal(hex(der.integer(128)), '02020080')
  assert.equal(hex(der.integer(256)), '02020100')
  assert.equal(hex(der.integer(2n ** 64n)), '0209010000000000000000')
  assert.throws(
    () => der.integer(-1),
    (err: unknown) => isPRouterError(err, 'ERR_INVALID_ARGUMENT'),
  )
})

test('lengths: one byte below 128, then 0x80 + the count of length bytes', () => {
  assert.equal(hex(der.octetString(Buffer.alloc(127))).slice(0, 4), '047f')
  assert.equal(hex(der.octetString(Buffer.alloc(200))).slice(0, 6), '0481c8')
  assert.equal(hex(der.octetString(Buffer.alloc(300))).slice(0, 8), '0482012c')
  assert.equal(hex(der.octetString(Buffer.alloc(70000))).slice(0, 10), '0483011170')
})

test('object identifiers: 40 * a + b, then base 128', () => {
  assert.equal(hex(der.oid('1.2.840.113549.1.1.13')), '06092a864886f70d01010d')
  assert.equal(hex(der.oid('2.5.4.3')), '0603550403')
  assert.equal(hex(der.oid('2.5.29.19')), '0603551d13')
  for (const bad of ['1', '3.1', '1.40', 'x.y']) {
    assert.throws(() => der.oid(bad), Error, bad)
  }
})

test('times: UTCTime until 2049, GeneralizedTime from 2050, whole seconds in UTC', () => {
  const utc = der.time(new Date('2036-02-29T23:59:58.900Z'))
  assert.equal(utc.toString('latin1'), '\x17\x0d360229235958Z')
  const generalized = der.time(new Date('2050-01-01T00:00:00Z'))
  assert.equal(generalized.toString('latin1'), '\x18\x0f20500101000000Z')
  assert.equal(der.time(new Date('1999-12-31T00:00:00Z')).toString('latin1').slice(2), '991231000000Z')
  assert.throws(
    () => der.time(new Date('1949-12-31T00:00:00Z')),
    (err: unknown) => isPRouterError(err, 'ERR_INVALID_ARGUMENT'),
  )
  assert.throws(
    () => der.time(new Date(Number.NaN)),
    (err: unknown) => isPRouterError(err, 'ERR_INVALID_ARGUMENT'),
  )
})

test('constructed values hold their elements; the primitives have their tags', () => {
  assert.equal(hex(der.sequence(der.nullValue(), der.boolean(true))), '30050500' + '0101ff')
  assert.equal(hex(der.set(der.boolean(false))), '3103010100')
  assert.equal(hex(der.explicit(0, der.integer(2))), 'a003020102')
  assert.equal(hex(der.explicit(3, der.nullValue())), 'a3020500')
  assert.equal(hex(der.bitString(Buffer.of(0x84), 2)), '03020284')
  assert.equal(hex(der.utf8String('é@')), '0c03c3a940')
})
