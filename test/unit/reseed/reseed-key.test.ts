import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { chmod, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  defaultSignerId,
  loadOrCreateReseedKey,
  RESEED_CERTIFICATE_FILE,
  RESEED_KEY_FILE,
} from '../../../src/reseed/reseed-key.js'
import { createSelfSignedCertificate } from '../../../src/reseed/certificate.js'
import { isPRouterError } from '../../../src/errors.js'
import type { ErrorCode } from '../../../src/errors.js'
import { tempDir } from '../../helpers/i2pd.js'

const code = (c: ErrorCode) => (err: unknown) => isPRouterError(err, c)
const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777
const pkcs8 = (key: { export: (o: { type: 'pkcs8'; format: 'pem' }) => string | Buffer }) =>
  String(key.export({ type: 'pkcs8', format: 'pem' }))

test('made once: key 0600, certificate 0644, the same key on every later load', async (t) => {
  const dir = join(await tempDir(t, 'prouter-reseed-'), 'keys')
  const first = await loadOrCreateReseedKey(dir)
  assert.equal(first.privateKey.asymmetricKeyDetails?.modulusLength, 4096)
  assert.match(first.signerId, /^prouter-[0-9a-f]{8}@reseed\.invalid$/)
  assert.equal(await mode(join(dir, RESEED_KEY_FILE)), 0o600)
  assert.equal(await mode(join(dir, RESEED_CERTIFICATE_FILE)), 0o644)
  assert.equal(await mode(dir), 0o700)
  assert.equal(await readFile(join(dir, RESEED_CERTIFICATE_FILE), 'utf8'), first.certificatePem)
  assert.deepEqual((await readdir(dir)).sort(), [RESEED_CERTIFICATE_FILE, RESEED_KEY_FILE])
  const cert = new X509Certificate(first.certificatePem)
  assert.equal(cert.issuer, `CN=${first.signerId}`)
  assert.equal(cert.verify(cert.publicKey), true)

  const again = await loadOrCreateReseedKey(dir)
  assert.equal(pkcs8(again.privateKey), pkcs8(first.privateKey))
  assert.equal(again.certificatePem, first.certificatePem, 'a fitting certificate is kept')
  assert.equal(again.signerId, first.signerId)
  assert.equal(defaultSignerId(cert.publicKey), first.signerId)
})

test('the certificate follows the signer ID and is re-made when missing or foreign', async (t) => {
  const dir = await tempDir(t, 'prouter-reseed-')
  const first = await loadOrCreateReseedKey(dir)
  const named = await loadOrCreateReseedKey(dir, { signerId: 'ops@example.org' })
  assert.equal(pkcs8(named.privateKey), pkcs8(first.privateKey))
  assert.equal(new X509Certificate(named.certificatePem).issuer, 'CN=ops@example.org')

  await rm(join(dir, RESEED_CERTIFICATE_FILE))
  const remade = await loadOrCreateReseedKey(dir, { signerId: 'ops@example.org' })
  assert.ok(
    new X509Certificate(remade.certificatePem).publicKey.equals(
      new X509Certificate(named.certificatePem).publicKey,
    ),
  )

  const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const foreign = createSelfSignedCertificate({ privateKey: other.privateKey, signerId: 'ops@example.org' })
  await writeFile(join(dir, RESEED_CERTIFICATE_FILE), foreign)
  const fixed = await loadOrCreateReseedKey(dir, { signerId: 'ops@example.org' })
  assert.notEqual(fixed.certificatePem, foreign)
  assert.equal(
    new X509Certificate(fixed.certificatePem).verify(new X509Certificate(remade.certificatePem).publicKey),
    true,
  )

  await writeFile(join(dir, RESEED_CERTIFICATE_FILE), 'garbage')
  assert.notEqual(
    (await loadOrCreateReseedKey(dir, { signerId: 'ops@example.org' })).certificatePem,
    'garbage',
  )
  await assert.rejects(loadOrCreateReseedKey(dir, { signerId: 'not ok' }), code('ERR_INVALID_ARGUMENT'))
})

test('a key file open to group or others is refused, and left as it is', async (t) => {
  const dir = await tempDir(t, 'prouter-reseed-')
  await loadOrCreateReseedKey(dir)
  const keyFile = join(dir, RESEED_KEY_FILE)
  const before = await readFile(keyFile, 'utf8')
  await chmod(keyFile, 0o640)
  await assert.rejects(
    loadOrCreateReseedKey(dir),
    (err: unknown) => isPRouterError(err, 'ERR_KEY_FILE_MODE') && err.message.includes('chmod 600'),
  )
  assert.equal(await readFile(keyFile, 'utf8'), before)
})

test('a key file that is not an RSA-4096 private key is malformed, its text never in the error', async (t) => {
  const dir = await tempDir(t, 'prouter-reseed-')
  const keyFile = join(dir, RESEED_KEY_FILE)
  const small = pkcs8(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)
  for (const text of ['-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n', small]) {
    await writeFile(keyFile, text, { mode: 0o600 })
    await assert.rejects(loadOrCreateReseedKey(dir), (err: unknown) => {
      assert.ok(isPRouterError(err, 'ERR_KEY_FILE_MALFORMED'))
      assert.equal(err.cause, undefined)
      assert.ok(!JSON.stringify({ m: err.message, d: err.detail }).includes('c2VjcmV0'))
      return true
    })
  }
})

test('two processes creating at once end with one key', async (t) => {
  const dir = await tempDir(t, 'prouter-reseed-')
  const [a, b] = await Promise.all([loadOrCreateReseedKey(dir), loadOrCreateReseedKey(dir)])
  assert.equal(pkcs8(a.privateKey), pkcs8(b.privateKey))
  assert.equal(pkcs8((await loadOrCreateReseedKey(dir)).privateKey), pkcs8(a.privateKey))
  assert.deepEqual(
    (await readdir(dir)).sort(),
    [RESEED_CERTIFICATE_FILE, RESEED_KEY_FILE],
    'no temporary files left',
  )
})

test('an aborted signal is honoured before any work', async (t) => {
  const dir = await tempDir(t, 'prouter-reseed-')
  const controller = new AbortController()
  controller.abort(new Error('stop'))
  await assert.rejects(loadOrCreateReseedKey(dir, { signal: controller.signal }), /stop/)
  assert.deepEqual(await readdir(dir), [])
})
