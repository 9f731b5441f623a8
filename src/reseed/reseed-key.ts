/**
 * The reseed signing key of a PRouter network: RSA-4096 (the only SU3 signature type i2pd verifies), made
 * once and kept in `<dir>/reseed.key.pem` (PKCS#8, mode 0600, written atomically, refused when group or
 * others can read it), with its self-signed certificate beside it in `<dir>/reseed.crt.pem` (mode 0644).
 * The certificate is re-issued from the key when it is missing, names another signer, holds another key, or
 * expires within 30 days (i2pd checks none of its dates; OpenSSL tools do). The key is never logged.
 */
import type { KeyObject } from 'node:crypto'
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, X509Certificate } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { HOUR } from '../constants.js'
import { isPRouterError } from '../errors.js'
import { KEY_DIR_MODE, malformedKeyFile, readKeyFile, writeKeyFile } from '../identity/key-file.js'
import { createSelfSignedCertificate } from './certificate.js'
import { readIfExists, writeFileAtomic } from '../files.js'
import { assertSignerId } from './signer-id.js'

export const RESEED_KEY_FILE = 'reseed.key.pem'
export const RESEED_CERTIFICATE_FILE = 'reseed.crt.pem'
const RENEW_BEFORE_EXPIRY = 30 * 24 * HOUR
const generateKeyPairAsync = promisify(generateKeyPair)

export interface ReseedKey {
  privateKey: KeyObject
  /** The self-signed certificate: install it where routers read reseed certificates. */
  certificatePem: string
  signerId: string
}

export interface ReseedKeyOptions {
  /** The certificate's CN and the SU3 signer ID; default: `prouter-<8 hex of sha256(public key)>@reseed.invalid`. */
  signerId?: string
  signal?: AbortSignal
}

export async function loadOrCreateReseedKey(dir: string, options: ReseedKeyOptions = {}): Promise<ReseedKey> {
  options.signal?.throwIfAborted()
  await mkdir(dir, { recursive: true, mode: KEY_DIR_MODE })
  const keyFile = join(dir, RESEED_KEY_FILE)
  const privateKey = (await readReseedKey(keyFile)) ?? (await createReseedKey(keyFile, options.signal))
  const publicKey = createPublicKey(privateKey)
  const signerId = assertSignerId(options.signerId ?? defaultSignerId(publicKey))
  const certFile = join(dir, RESEED_CERTIFICATE_FILE)
  let certificatePem = await readIfExists(certFile)
  if (certificatePem === undefined || !certificateFits(certificatePem, publicKey, signerId)) {
    certificatePem = createSelfSignedCertificate({ privateKey, signerId })
    await writeFileAtomic(certFile, certificatePem, 0o644)
  }
  return { privateKey, certificatePem, signerId }
}

export function defaultSignerId(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  return `prouter-${createHash('sha256').update(spki).digest('hex').slice(0, 8)}@reseed.invalid`
}

/** The key in `path`, or undefined when there is none; ERR_KEY_FILE_MODE / ERR_KEY_FILE_MALFORMED. */
async function readReseedKey(path: string): Promise<KeyObject | undefined> {
  let pem: string
  try {
    pem = await readKeyFile(path)
  } catch (err) {
    if (isPRouterError(err, 'ERR_KEY_FILE_MISSING')) return undefined
    throw err
  }
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    throw malformedKeyFile(path, 'not a PEM private key') // no cause: it could quote the file
  }
  if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== 4096) {
    throw malformedKeyFile(path, 'not an RSA-4096 key (the only SU3 signature type i2pd verifies)')
  }
  return key
}

/** A new key, written only if no other process wrote one first (then that one is used). */
async function createReseedKey(path: string, signal?: AbortSignal): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 4096, publicExponent: 0x10001 })
  signal?.throwIfAborted()
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' })
  try {
    await writeKeyFile(path, String(pem), { overwrite: false })
  } catch (err) {
    if (!isPRouterError(err, 'ERR_KEY_FILE_EXISTS')) throw err
    const winner = await readReseedKey(path)
    if (winner !== undefined) return winner
    throw err
  }
  return privateKey
}

function certificateFits(pem: string, publicKey: KeyObject, signerId: string): boolean {
  try {
    const cert = new X509Certificate(pem)
    const cn = `CN=${signerId}`
    const fresh = Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_EXPIRY
    return cert.subject === cn && cert.issuer === cn && cert.publicKey.equals(publicKey) && fresh
  } catch {
    return false
  }
}
