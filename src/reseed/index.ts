/** Signed reseed bundles (SU3) for a private network's routers, and the key and certificate behind them. */
export { buildReseedBundle, installReseedCertificate } from './bundle.js'
export type { RouterInfoFile } from './bundle.js'
export { createSelfSignedCertificate, DEFAULT_RESEED_CERTIFICATE_VALIDITY } from './certificate.js'
export type { CertificateInit } from './certificate.js'
export {
  defaultSignerId,
  loadOrCreateReseedKey,
  RESEED_CERTIFICATE_FILE,
  RESEED_KEY_FILE,
} from './reseed-key.js'
export type { ReseedKey, ReseedKeyOptions } from './reseed-key.js'
export { readSu3, writeSu3 } from './su3.js'
export type { Su3File, Su3Init, TrustedSigners } from './su3.js'
export { buildReseedZip } from './zip.js'
export type { ZipEntry } from './zip.js'
