export { createEvmBackend } from './backend.js'
export type { EvmBackendInit } from './backend.js'
export { deployRegistry } from './deploy.js'
export type { DeployInit, DeployedRegistry } from './deploy.js'
export { redactUrl } from './rpc-errors.js'
export {
  WORKER_REGISTRY_SOLC_VERSION,
  WORKER_REGISTRY_SOURCE_SHA256,
  workerRegistryAbi,
  workerRegistryBytecode,
  workerRegistryDeployedBytecode,
} from './artifact.js'
