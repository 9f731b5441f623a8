import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { readSu3, writeSu3 } from '../../../src/reseed/su3.js'
import { createSelfSignedCertificate } from '../../../src/reseed/certificate.js'
import { isPRouterError } from '../../../src/errors.js'
import type { ErrorCode } from '../../../src/errors.js'
import { rsa4096 } from '../../helpers/rsa-keys.js'

const SIGNER = 'prouter-0123abcd@reseed.invalid'
const CONTENT = Buffer.from('PK\x03\x04 not really a zip, the SU3 layer does not look inside', 'latin1')
const code = (c: ErrorCode) => (err: unknown) => isPRouterError(err, c)

async function signed(over: { content?: Buffer; version?: string; signerId?: string } = {}) {
  const { privateKey, publicKey } = await rsa4096()
  const su3 = writeSu3({ content: CONTENT, signerId: SIGNER, version: '1767225600', privateKey, ...over })
  return { su3, trusted: new Map([[over.signerId ?? SIGNER, publicKey]]) }
}

test('round trip: the fields come back and the signature verifies', async () => {
  const { su3, trusted } = await signed()
  assert.deepEqual(readSu3(su3, { trusted }), {
    signerId: SIGNER,
    version: '1767225600',
    fileType: 0,
    contentType: 3,
    content: CONTENT,
    verified: true,
  })
  assert.equal(readSu3(su3).verified, false, 'nothing trusted: parsed, not verified')
})

test('a trusted certificate PEM works like its key', async () => {
  const { privateKey } = await rsa4096()
  const { su3 } = await signed()
  const pem = createSelfSignedCertificate({ privateKey, signerId: SIGNER })
  assert.equal(readSu3(su3, { trusted: new Map([[SIGNER, pem]]) }).verified, true)
  assert.throws(
    () => readSu3(su3, { trusted: new Map([[SIGNER, 'not a certificate']]) }),
    code('ERR_INVALID_ARGUMENT'),
  )
})

test('the layout is the one i2pd reads', async () => {
  const { su3 } = await signed()
  assert.equal(su3.subarray(0, 7).toString('latin1'), 'I2Psu3\0')
  assert.equal(su3[7], 0, 'format version')
  assert.equal(su3.readUInt16BE(8), 6, 'RSA_SHA512_4096')
  assert.equal(su3.readUInt16BE(10), 512)
  assert.equal(su3[13], 16, 'version length')
  assert.equal(su3[15], SIGNER.length)
  assert.equal(su3.readBigUInt64BE(16), BigInt(CONTENT.length))
  assert.deepEqual([su3[25], su3[27]], [0, 3], 'zip, reseed')
  assert.equal(su3.subarray(40, 56).toString('latin1'), '1767225600\0\0\0\0\0\0')
  assert.equal(su3.subarray(56, 56 + SIGNER.length).toString('latin1'), SIGNER)
  assert.deepEqual(su3.subarray(56 + SIGNER.length, -512), CONTENT)
  assert.equal(su3.length, 40 + 16 + SIGNER.length + CONTENT.length + 512)
})

test("i2pd's check passes: s^e mod n ends with SHA-512 of everything before the signature", async () => {
  const { su3 } = await signed()
  const { publicKey } = await rsa4096()
  const jwk = publicKey.export({ format: 'jwk' })
  const n = BigInt(`0x${Buffer.from(jwk.n ?? '', 'base64url').toString('hex')}`)
  const e = BigInt(`0x${Buffer.from(jwk.e ?? '', 'base64url').toString('hex')}`)
  const s = BigInt(`0x${su3.subarray(-512).toString('hex')}`)
  const m = Buffer.from(modPow(s, e, n).toString(16).padStart(1024, '0'), 'hex')
  assert.deepEqual(m.subarray(-64), createHash('sha512').update(su3.subarray(0, -512)).digest())
})

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n
  for (let b = base % mod, x = exp; x > 0n; x >>= 1n, b = (b * b) % mod) {
    if (x & 1n) result = (result * b) % mod
  }
  return result
}

test('a version longer than 16 characters gets a longer field', async () => {
  const version = '2026.01.01-release-candidate-3'
  const { su3, trusted } = await signed({ version })
  assert.equal(su3[13], version.length)
  assert.equal(readSu3(su3, { trusted }).version, version)
})

/** [offset, byte written there, field named in the error] */
const CORRUPTIONS: Array<[number, number, string]> = [
  [0, 0x69, 'magic'],
  [5, 0x34, 'magic'],
  [6, 1, 'magic'],
  [7, 1, 'format version'],
  [8, 1, 'signature type'],
  [9, 7, 'signature type'],
  [10, 0, 'signature length'],
  [11, 0xff, 'signature length'],
  [13, 15, 'version length'],
  [13, 17, 'content length'],
  [15, 0, 'signer ID length'],
  [15, SIGNER.length + 1, 'content length'],
  [16, 1, 'content length'],
  [23, CONTENT.length + 1, 'content length'],
  [25, 1, 'file type'],
  [27, 1, 'content type'],
  [27, 4, 'content type'],
  ...[12, 14, 24, 26, 28, 33, 39].map((at): [number, number, string] => [at, 1, 'unused byte']),
  [52, 0x41, 'version'], // inside the zero padding
  [40, 0x07, 'version'],
  [56, 0x20, 'signer ID'],
]

test('every header field out of place is ERR_SU3_MALFORMED naming the field', async () => {
  const { su3, trusted } = await signed()
  for (const [offset, value, field] of CORRUPTIONS) {
    const bad = Buffer.from(su3)
    bad[offset] = value
    assert.throws(
      () => readSu3(bad, { trusted }),
      (err: unknown) => isPRouterError(err, 'ERR_SU3_MALFORMED') && err.detail?.field === field,
      `byte ${offset} = ${value}: ${field}`,
    )
  }
})

test('truncated or extended files are malformed', async () => {
  const { su3, trusted } = await signed()
  for (const bad of [
    su3.subarray(0, 39),
    su3.subarray(0, 40),
    su3.subarray(0, -1),
    Buffer.concat([su3, Buffer.of(0)]),
  ]) {
    assert.throws(() => readSu3(bad, { trusted }), code('ERR_SU3_MALFORMED'), `${bad.length} bytes`)
  }
})

test('one flipped byte of content or signature fails the signature', async () => {
  const { su3, trusted } = await signed()
  for (const offset of [40 + 16 + SIGNER.length, su3.length - 513, su3.length - 512, su3.length - 1]) {
    const bad = Buffer.from(su3)
    bad[offset] = (bad[offset] ?? 0) ^ 0x01
    assert.throws(() => readSu3(bad, { trusted }), code('ERR_SU3_SIGNATURE'), `offset ${offset}`)
  }
})

test('a signature by another key under the same signer ID fails', async () => {
  const { su3 } = await signed()
  const other = await rsa4096('b')
  assert.throws(
    () => readSu3(su3, { trusted: new Map([[SIGNER, other.publicKey]]) }),
    code('ERR_SU3_SIGNATURE'),
  )
})

test('an unknown signer is untrusted', async () => {
  const { su3 } = await signed({ signerId: 'someone-else@reseed.invalid' })
  const { publicKey } = await rsa4096()
  assert.throws(
    () => readSu3(su3, { trusted: new Map([[SIGNER, publicKey]]) }),
    (err: unknown) =>
      isPRouterError(err, 'ERR_SU3_UNTRUSTED_SIGNER') &&
      err.detail?.signerId === 'someone-else@reseed.invalid',
  )
})

test('writeSu3 refuses keys i2pd cannot verify, bad signer IDs and versions, empty content', async () => {
  const { privateKey, publicKey } = await rsa4096()
  const small = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const base = { content: CONTENT, signerId: SIGNER, privateKey }
  const cases = [
    { ...base, privateKey: small.privateKey },
    { ...base, privateKey: publicKey },
    { ...base, signerId: '' },
    { ...base, signerId: 'no spaces please' },
    { ...base, version: '' },
    { ...base, version: 'x'.repeat(256) },
    { ...base, version: 'tab\there' },
    { ...base, content: Buffer.alloc(0) },
  ]
  for (const init of cases) assert.throws(() => writeSu3(init), code('ERR_INVALID_ARGUMENT'))
  assert.throws(
    () => readSu3(writeSu3(base), { trusted: new Map([[SIGNER, small.publicKey]]) }),
    code('ERR_INVALID_ARGUMENT'),
  )
})

test('the default version is the unix time in seconds', async () => {
  const { privateKey } = await rsa4096()
  const before = Math.floor(Date.now() / 1000)
  const version = Number(readSu3(writeSu3({ content: CONTENT, signerId: SIGNER, privateKey })).version)
  assert.ok(version >= before && version <= before + 5)
})
