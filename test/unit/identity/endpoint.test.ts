import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { i2pEndpoint, parseI2pEndpoint } from '../../../src/identity/index.js'

const B32 = 'z277vjg7ogdht3irggrobakjlwmgbvyrdvrgnnrflryqbutmlr4q'
const invalidArgument = (err: unknown): boolean => isPRouterError(err, 'ERR_INVALID_ARGUMENT')

test('i2pEndpoint: i2p://<52>.b32.i2p from a b32 address, with or without its suffix', () => {
  assert.equal(i2pEndpoint(`${B32}.b32.i2p`), `i2p://${B32}.b32.i2p`)
  assert.equal(i2pEndpoint(B32), `i2p://${B32}.b32.i2p`)
  assert.equal(i2pEndpoint(`${B32.toUpperCase()}.B32.I2P`), `i2p://${B32}.b32.i2p`, 'lower-cased')
})

test('i2pEndpoint refuses what is not a 256-bit b32 address', () => {
  const bad = [
    B32.slice(1), // 51 characters
    `${B32}a`, // 53
    `${B32.slice(0, 51)}b`, // last character carries one bit: only a or q
    `${B32.slice(0, 51)}1`, // not base32
    `${B32}.i2p`,
    `i2p://${B32}.b32.i2p`,
    'example.i2p',
    '',
  ]
  for (const b of bad) assert.throws(() => i2pEndpoint(b), invalidArgument, b)
})

test('parseI2pEndpoint: the b32 address, lower case; undefined for anything else', () => {
  assert.equal(parseI2pEndpoint(`i2p://${B32}.b32.i2p`), `${B32}.b32.i2p`)
  assert.equal(parseI2pEndpoint(`I2P://${B32.toUpperCase()}.B32.I2P`), `${B32}.b32.i2p`)
  assert.equal(parseI2pEndpoint(i2pEndpoint(B32)), `${B32}.b32.i2p`)
  const others: unknown[] = [
    `https://${B32}.b32.i2p`,
    `i2p://${B32}.b32.i2p/`,
    `i2p://${B32}.b32.i2p:80`,
    `i2p://${B32.slice(0, 51)}c.b32.i2p`,
    `i2p://${B32}`,
    'i2p://example.i2p',
    ` i2p://${B32}.b32.i2p`,
    '',
    5,
  ]
  for (const e of others) assert.equal(parseI2pEndpoint(e as string), undefined, String(e))
})

test('datagram endpoints: i2p-datagram://<52>.b32.i2p, never taken for a stream endpoint', async () => {
  const { datagramEndpoint, parseDatagramEndpoint } = await import('../../../src/identity/index.js')
  const endpoint = datagramEndpoint(B32)
  assert.equal(endpoint, `i2p-datagram://${B32}.b32.i2p`)
  assert.equal(parseDatagramEndpoint(endpoint), `${B32}.b32.i2p`)
  assert.equal(parseI2pEndpoint(endpoint), undefined, 'old resolvers ignore it')
  assert.equal(parseDatagramEndpoint(`i2p://${B32}.b32.i2p`), undefined)
  assert.equal(parseDatagramEndpoint(`i2p-datagram://${B32.slice(1)}.b32.i2p`), undefined)
  assert.throws(() => datagramEndpoint('nope'), invalidArgument)
})
