import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import {
  createSelfSignedCertificate,
  DEFAULT_RESEED_CERTIFICATE_VALIDITY,
} from '../../../src/reseed/certificate.js'
import { isPRouterError } from '../../../src/errors.js'
import { rsa4096 } from '../../helpers/rsa-keys.js'

const SIGNER = 'prouter-0123abcd@reseed.invalid'
const isCode = (code: Parameters<typeof isPRouterError>[1]) => (err: unknown) => isPRouterError(err, code)

test('node parses the certificate; it verifies with its own key and issued itself', async () => {
  const { privateKey, publicKey } = await rsa4096()
  const pem = createSelfSignedCertificate({ privateKey, signerId: SIGNER })
  assert.match(
    pem,
    /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/,
  )
  const cert = new X509Certificate(pem)
  assert.equal(cert.verify(publicKey), true)
  assert.equal(cert.checkIssued(cert), true)
  assert.equal(cert.subject, `CN=${SIGNER}`)
  assert.equal(cert.issuer, `CN=${SIGNER}`, 'i2pd maps the issuer CN to the key')
  assert.ok(cert.publicKey.equals(publicKey))
  assert.equal(cert.ca, true)
})

test('validity: notBefore to notBefore + validity, 10 years by default, whole seconds', async () => {
  const { privateKey } = await rsa4096()
  const notBefore = new Date('2026-03-01T12:34:56.789Z')
  const cert = new X509Certificate(createSelfSignedCertificate({ privateKey, signerId: SIGNER, notBefore }))
  assert.equal(new Date(cert.validFrom).toISOString(), '2026-03-01T12:34:56.000Z')
  const validTo = Date.parse('2026-03-01T12:34:56.000Z') + DEFAULT_RESEED_CERTIFICATE_VALIDITY
  assert.equal(new Date(cert.validTo).toISOString(), new Date(validTo).toISOString())
  const now = Date.now()
  const fresh = new X509Certificate(createSelfSignedCertificate({ privateKey, signerId: SIGNER }))
  assert.ok(Math.abs(Date.parse(fresh.validFrom) - now) < 5000)
})

test('a validity past 2049 is written as GeneralizedTime and read back', async () => {
  const { privateKey, publicKey } = await rsa4096()
  const notBefore = new Date('2049-06-01T00:00:00Z')
  const validityMs = 2 * 365 * 24 * 3600 * 1000
  const cert = new X509Certificate(
    createSelfSignedCertificate({ privateKey, signerId: SIGNER, notBefore, validityMs }),
  )
  assert.equal(new Date(cert.validFrom).toISOString(), '2049-06-01T00:00:00.000Z')
  assert.equal(new Date(cert.validTo).toISOString(), '2051-06-01T00:00:00.000Z')
  assert.equal(cert.verify(publicKey), true)
})

test('serials are random, positive and 16 bytes long', async () => {
  const { privateKey } = await rsa4096()
  const serials = new Set<string>()
  for (let i = 0; i < 3; i++) {
    const cert = new X509Certificate(createSelfSignedCertificate({ privateKey, signerId: SIGNER }))
    assert.match(cert.serialNumber, /^[4-7][0-9A-F]{31}$/)
    serials.add(cert.serialNumber)
  }
  assert.equal(serials.size, 3)
})

test('another key does not verify it', async () => {
  const { privateKey } = await rsa4096()
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const cert = new X509Certificate(createSelfSignedCertificate({ privateKey, signerId: SIGNER }))
  assert.equal(cert.verify(other.publicKey), false)
})

test('bad inputs are refused with their codes', async () => {
  const { privateKey, publicKey } = await rsa4096()
  const ed = generateKeyPairSync('ed25519')
  const cases: Array<[() => unknown, Parameters<typeof isPRouterError>[1]]> = [
    [() => createSelfSignedCertificate({ privateKey, signerId: 'with space' }), 'ERR_INVALID_ARGUMENT'],
    [() => createSelfSignedCertificate({ privateKey, signerId: 'a/b' }), 'ERR_INVALID_ARGUMENT'],
    [() => createSelfSignedCertificate({ privateKey, signerId: 'x'.repeat(96) }), 'ERR_INVALID_ARGUMENT'],
    [() => createSelfSignedCertificate({ privateKey: publicKey, signerId: SIGNER }), 'ERR_INVALID_ARGUMENT'],
    [
      () => createSelfSignedCertificate({ privateKey: ed.privateKey, signerId: SIGNER }),
      'ERR_INVALID_ARGUMENT',
    ],
    [
      () => createSelfSignedCertificate({ privateKey, signerId: SIGNER, validityMs: 0 }),
      'ERR_INVALID_OPTION',
    ],
    [
      () => createSelfSignedCertificate({ privateKey, signerId: SIGNER, validityMs: 1.5 }),
      'ERR_INVALID_OPTION',
    ],
  ]
  for (const [fn, code] of cases) assert.throws(fn, isCode(code))
})
