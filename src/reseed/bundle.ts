/**
 * A signed reseed bundle for i2pd (`[reseed] file = <bundle>.su3`, `verify = true`): the RouterInfos zipped
 * as `routerInfo-<id>.dat` entries (the names public reseed servers use; i2pd reads only the data), wrapped
 * in an SU3 signed by the network's reseed key. Routers trust the key through its certificate in
 * `<certsdir>/reseed/` (installReseedCertificate).
 */
import { X509Certificate } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { PRouterError } from '../errors.js'
import type { ReseedKey } from './reseed-key.js'
import { writeFileAtomic } from '../files.js'
import { signerCertificateFileName } from './signer-id.js'
import { writeSu3 } from './su3.js'
import { buildReseedZip } from './zip.js'

export interface RouterInfoFile {
  /** Names the zip entry `routerInfo-<id>.dat`: I2P base64 of the router hash, or any name of those characters. */
  id: string
  /** The RouterInfo as the router wrote it (its router.info). */
  bytes: Uint8Array
}

/** i2pd refuses an entry name of 255 bytes or more; a zip counts entries in 16 bits. */
const ID = /^[A-Za-z0-9~=_.-]{1,200}$/
const MAX_ENTRIES = 0xffff

export function buildReseedBundle(
  routerInfos: readonly RouterInfoFile[],
  key: Pick<ReseedKey, 'privateKey' | 'signerId'>,
  options: { version?: string } = {},
): Buffer {
  checkRouterInfos(routerInfos)
  const zip = buildReseedZip(routerInfos.map((r) => ({ name: `routerInfo-${r.id}.dat`, data: r.bytes })))
  return writeSu3({ content: zip, signerId: key.signerId, privateKey: key.privateKey, ...options })
}

function checkRouterInfos(routerInfos: readonly RouterInfoFile[]): void {
  if (routerInfos.length === 0 || routerInfos.length > MAX_ENTRIES) {
    throw invalid(`${routerInfos.length} RouterInfos: a bundle holds 1..${MAX_ENTRIES}`)
  }
  const seen = new Set<string>()
  for (const { id, bytes } of routerInfos) {
    if (!ID.test(id)) throw invalid(`RouterInfo id "${id}": 1..200 of A-Z a-z 0-9 ~ = _ . -`)
    if (seen.has(id)) throw invalid(`RouterInfo id "${id}" appears twice`)
    if (bytes.length === 0) throw invalid(`RouterInfo "${id}" is empty (i2pd skips empty entries)`)
    seen.add(id)
  }
}

/**
 * Write `pem` to `<certsDir>/reseed/<signer id>.crt` (`@` as `_at_`), where i2pd loads reseed certificates
 * from (only `*.crt` files; the issuer's CN must be the signer ID). Returns the file's path.
 */
export async function installReseedCertificate(
  certsDir: string,
  signerId: string,
  pem: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  options.signal?.throwIfAborted()
  const fileName = signerCertificateFileName(signerId)
  checkCertificate(pem, signerId)
  const dir = join(certsDir, 'reseed')
  await mkdir(dir, { recursive: true, mode: 0o755 })
  const path = join(dir, fileName)
  await writeFileAtomic(path, pem, 0o644)
  return path
}

function checkCertificate(pem: string, signerId: string): void {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(pem)
  } catch (cause) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', 'reseed certificate: not a PEM X.509 certificate', {
      cause,
    })
  }
  if (cert.issuer !== `CN=${signerId}`) {
    throw invalid(`reseed certificate: issuer is "${cert.issuer}", i2pd would need "CN=${signerId}"`)
  }
  const { publicKey } = cert
  if (publicKey.asymmetricKeyType !== 'rsa' || publicKey.asymmetricKeyDetails?.modulusLength !== 4096) {
    throw invalid('reseed certificate: its key is not RSA-4096 (the only SU3 signature type i2pd verifies)')
  }
}

function invalid(message: string): PRouterError {
  return new PRouterError('ERR_INVALID_ARGUMENT', message)
}
