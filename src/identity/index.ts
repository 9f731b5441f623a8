/** The worker identity: sr25519 keys, the signed endpoint binding (Phala's format), and the key files. */

export {
  decodeEndpointPayload,
  encodeEndpointPayload,
  endpointSigningMessage,
  ENDPOINT_SIGNING_PREFIX,
  type WorkerEndpointPayload,
} from './payload.js'
export {
  bindingFromJson,
  bindingToJson,
  signBinding,
  verifyBinding,
  type SignedBinding,
  type VerifiedBinding,
} from './binding.js'
export { datagramEndpoint, i2pEndpoint, parseDatagramEndpoint, parseI2pEndpoint } from './endpoint.js'
export {
  DEV_PHRASE,
  newMnemonic,
  parseWorkerKey,
  verifySignature,
  workerKeyFromSuri,
  workerKeyHex,
  type WorkerKeyPair,
} from './worker-key.js'
export {
  I2P_KEY_FILE,
  initKeyStore,
  loadKeyStore,
  WORKER_KEY_FILE,
  type InitKeyStoreOptions,
  type KeyStore,
} from './keystore.js'
export {
  CALLER_PROOF_BYTES,
  CALLER_PROOF_DOMAIN,
  decodeCallerProof,
  signCallerProof,
  verifyCallerProof,
  type CallerProof,
  type ProofExpectation,
} from './caller-proof.js'
