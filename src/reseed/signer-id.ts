/**
 * The reseed signer ID: the SU3 header names it, and i2pd looks the signing key up by the issuer CN of the
 * certificates in `<certsdir>/reseed/`. i2pd reads that CN from OpenSSL's one-line form of the name in a
 * 100-byte buffer (`/CN=<id>`, cut at the next `/`): so at most 95 characters, and a plain character set that
 * no printer escapes (real signers look like `admin@stormycloud.org`).
 */
import { PRouterError } from '../errors.js'

export const MAX_SIGNER_ID_LENGTH = 95
const SIGNER_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/

export function assertSignerId(signerId: string): string {
  if (signerId.length > MAX_SIGNER_ID_LENGTH || !SIGNER_ID.test(signerId)) {
    throw new PRouterError(
      'ERR_INVALID_ARGUMENT',
      `reseed signer ID "${signerId}": must be 1..${MAX_SIGNER_ID_LENGTH} of A-Z a-z 0-9 . _ @ - (a letter or digit first)`,
      { detail: { signerId } },
    )
  }
  return signerId
}

/** The certificate's file name in `<certsdir>/reseed/` (i2pd reads only `*.crt`): `@` as `_at_`, as I2P does. */
export function signerCertificateFileName(signerId: string): string {
  return `${assertSignerId(signerId).replaceAll('@', '_at_')}.crt`
}
