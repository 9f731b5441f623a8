import { test } from 'node:test'
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { buildReseedBundle, installReseedCertificate } from '../../../src/reseed/bundle.js'
import { createSelfSignedCertificate } from '../../../src/reseed/certificate.js'
import { readSu3 } from '../../../src/reseed/su3.js'
import { isPRouterError } from '../../../src/errors.js'
import type { ErrorCode } from '../../../src/errors.js'
import { rsa4096 } from '../../helpers/rsa-keys.js'
import { tempDir } from '../../helpers/i2pd.js'

const SIGNER = 'prouter-0123abcd@reseed.invalid'
const code = (c: ErrorCode) => (err: unknown) => isPRouterError(err, c)

/** The zip read as i2pd reads it: local file headers one after another, until the central directory. */
function readLocalEntries(zip: Buffer): Array<{ name: string; data: Buffer }> {
  const out: Array<{ name: string; data: Buffer }> = []
  let p = 0
  while (zip.readUInt32LE(p) === 0x04034b50) {
    assert.equal(zip.readUInt16LE(p + 6) & 0x08, 0, 'no data descriptor')
    assert.equal(zip.readUInt16LE(p + 8), 0, 'stored')
    const size = zip.readUInt32LE(p + 18)
    const nameLength = zip.readUInt16LE(p + 26)
    const start = p + 30 + nameLength + zip.readUInt16LE(p + 28)
    const data = zip.subarray(start, start + size)
    assert.equal(zip.readUInt32LE(p + 14), crc32(data))
    out.push({ name: zip.subarray(p + 30, p + 30 + nameLength).toString(), data })
    p = start + size
  }
  assert.equal(zip.readUInt32LE(p), 0x02014b50, 'central directory next')
  return out
}

test('the bundle is a signed SU3 around a zip of routerInfo-<id>.dat entries', async () => {
  const { privateKey, publicKey } = await rsa4096()
  const routerInfos = [
    { id: 'AAAA~bbbb-cc=', bytes: Buffer.from('router info one') },
    { id: 'r1', bytes: Buffer.alloc(900, 0xab) },
  ]
  const su3 = buildReseedBundle(routerInfos, { privateKey, signerId: SIGNER }, { version: '42' })
  const file = readSu3(su3, { trusted: new Map([[SIGNER, publicKey]]) })
  assert.deepEqual([file.verified, file.signerId, file.version], [true, SIGNER, '42'])
  assert.deepEqual(
    readLocalEntries(file.content).map((e) => [e.name, e.data.toString('hex')]),
    routerInfos.map((r) => [`routerInfo-${r.id}.dat`, r.bytes.toString('hex')]),
  )
})

test('RouterInfo lists i2pd would choke on are refused', async () => {
  const key = { privateKey: (await rsa4096()).privateKey, signerId: SIGNER }
  const one = Buffer.from('x')
  const cases = [
    [],
    [{ id: 'a/b', bytes: one }],
    [{ id: '', bytes: one }],
    [{ id: 'x'.repeat(201), bytes: one }],
    [{ id: 'a', bytes: Buffer.alloc(0) }],
    [
      { id: 'a', bytes: one },
      { id: 'a', bytes: one },
    ],
  ]
  for (const routerInfos of cases) {
    assert.throws(
      () => buildReseedBundle(routerInfos, key),
      code('ERR_INVALID_ARGUMENT'),
      JSON.stringify(routerInfos),
    )
  }
})

test('the certificate goes to <certsdir>/reseed/<signer>.crt, readable by all', async (t) => {
  const certsDir = join(await tempDir(t, 'prouter-certs-'), 'certificates')
  const { privateKey } = await rsa4096()
  const pem = createSelfSignedCertificate({ privateKey, signerId: SIGNER })
  const path = await installReseedCertificate(certsDir, SIGNER, pem)
  assert.equal(path, join(certsDir, 'reseed', 'prouter-0123abcd_at_reseed.invalid.crt'))
  assert.equal(await readFile(path, 'utf8'), pem)
  assert.equal((await stat(path)).mode & 0o777, 0o644)
  assert.deepEqual(await readdir(join(certsDir, 'reseed')), ['prouter-0123abcd_at_reseed.invalid.crt'])
  assert.equal(new X509Certificate(await readFile(path)).issuer, `CN=${SIGNER}`)
  await installReseedCertificate(certsDir, SIGNER, pem) // again: replaced in place
  assert.equal((await readdir(join(certsDir, 'reseed'))).length, 1)
})

test('a certificate of another signer, or no certificate, is not installed', async (t) => {
  const certsDir = await tempDir(t, 'prouter-certs-')
  const { privateKey } = await rsa4096()
  const pem = createSelfSignedCertificate({ privateKey, signerId: SIGNER })
  await assert.rejects(
    installReseedCertificate(certsDir, 'other@reseed.invalid', pem),
    code('ERR_INVALID_ARGUMENT'),
  )
  await assert.rejects(installReseedCertificate(certsDir, SIGNER, 'garbage'), code('ERR_INVALID_ARGUMENT'))
  await assert.rejects(installReseedCertificate(certsDir, 'bad/id', pem), code('ERR_INVALID_ARGUMENT'))
  assert.deepEqual(await readdir(certsDir), [])
})
