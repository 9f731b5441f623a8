/**
 * A self-signed X.509 v3 certificate (PEM) for a reseed signing key, DER written by hand (see der.ts).
 * i2pd reads from it only the issuer's CN (the signer ID) and the RSA modulus; OpenSSL must still load it.
 *
 *   Certificate     SEQUENCE { tbsCertificate, signatureAlgorithm, signature BIT STRING }
 *   tbsCertificate  SEQUENCE { [0] EXPLICIT version 2 (v3), serial INTEGER, signature AlgorithmIdentifier,
 *                              issuer Name, validity { notBefore, notAfter }, subject Name,
 *                              subjectPublicKeyInfo, [3] EXPLICIT extensions }
 *   Name            SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String } } }
 *   extensions      basicConstraints CA (critical), keyUsage digitalSignature + keyCertSign (critical),
 *                   subjectKeyIdentifier (SHA-1 of the RSAPublicKey, RFC 5280 4.2.1.2 method 1)
 */
import type { KeyObject } from 'node:crypto'
import { createHash, createPublicKey, randomBytes, sign } from 'node:crypto'
import { HOUR } from '../constants.js'
import { invalidOption, PRouterError } from '../errors.js'
import * as der from './der.js'
import { assertSignerId } from './signer-id.js'

export const DEFAULT_RESEED_CERTIFICATE_VALIDITY = 10 * 365 * 24 * HOUR

const OID = {
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
}

export interface CertificateInit {
  /** The RSA key that signs the certificate; its public half is the certificate's key. */
  privateKey: KeyObject
  /** Subject and issuer CN. */
  signerId: string
  /** Default: now (whole seconds). */
  notBefore?: Date
  /** notAfter - notBefore, in ms. Default: 10 years. */
  validityMs?: number
}

/** The certificate as PEM (`-----BEGIN CERTIFICATE-----`). */
export function createSelfSignedCertificate(init: CertificateInit): string {
  const key = assertRsaPrivateKey(init.privateKey)
  const name = commonName(assertSignerId(init.signerId))
  const { notBefore, notAfter } = validity(init)
  const publicKey = createPublicKey(key)
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(randomSerial()),
    signatureAlgorithm(),
    name,
    der.sequence(der.time(notBefore), der.time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(3, extensions(publicKey)),
  )
  const signature = sign('sha512', tbs, key) // RSASSA-PKCS1-v1_5 for an RSA key
  return toPem(der.sequence(tbs, signatureAlgorithm(), der.bitString(signature)))
}

function assertRsaPrivateKey(key: KeyObject): KeyObject {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') {
    throw new PRouterError('ERR_INVALID_ARGUMENT', 'reseed certificate: the key must be an RSA private key')
  }
  return key
}

function validity(init: CertificateInit): { notBefore: Date; notAfter: Date } {
  const validityMs = init.validityMs ?? DEFAULT_RESEED_CERTIFICATE_VALIDITY
  if (!Number.isSafeInteger(validityMs) || validityMs <= 0) {
    throw invalidOption('validityMs', `${validityMs} is not a positive whole number of ms`)
  }
  const start = Math.floor((init.notBefore ?? new Date()).getTime() / 1000) * 1000
  return { notBefore: new Date(start), notAfter: new Date(start + validityMs) }
}

/** 16 random bytes, top bit clear and next bit set: positive, non-zero, always 16 bytes long. */
function randomSerial(): bigint {
  const bytes = randomBytes(16)
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40
  return BigInt(`0x${bytes.toString('hex')}`)
}

function signatureAlgorithm(): Buffer {
  return der.sequence(der.oid(OID.sha512WithRSAEncryption), der.nullValue())
}

function commonName(cn: string): Buffer {
  return der.sequence(der.set(der.sequence(der.oid(OID.commonName), der.utf8String(cn))))
}

function extensions(publicKey: KeyObject): Buffer {
  const rsaPublicKey = publicKey.export({ type: 'pkcs1', format: 'der' })
  const keyId = createHash('sha1').update(rsaPublicKey).digest()
  return der.sequence(
    extension(OID.basicConstraints, true, der.sequence(der.boolean(true))),
    extension(OID.keyUsage, true, der.bitString(Buffer.of(0x84), 2)), // bits 0 and 5
    extension(OID.subjectKeyIdentifier, false, der.octetString(keyId)),
  )
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  const flag = critical ? [der.boolean(true)] : [] // DER leaves out a FALSE default
  return der.sequence(der.oid(id), ...flag, der.octetString(value))
}

function toPem(bytes: Buffer): string {
  const lines = bytes.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}
