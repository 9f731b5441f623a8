export type {
  RegistryBackend,
  BindingEvent,
  PublishReceipt,
  BackendCallOptions,
  RouterInfoReceipt,
  ReportQuery,
  ReportReceipt,
  ReportStorage,
  RouterInfoStorage,
} from './backend.js'
export { reportStorage, routerInfoStorage, signingTimeFor } from './backend.js'
export type { PublishedBinding, Registry, RegistryInit } from './resolver.js'
export { createRegistry, newestValid } from './resolver.js'
export type { AcceptanceRules } from './rules.js'
export { checkAcceptable, DEFAULT_RULES } from './rules.js'
export { openLocalStore } from './local/store.js'
export type { LocalStore, LocalStoreInit } from './local/store.js'
export { createRegistryServer } from './local/server.js'
export type { RegistryServer, RegistryServerInit } from './local/server.js'
export { createHttpBackend } from './local/client.js'
export type { HttpBackendInit } from './local/client.js'
export { localStorePath, openRegistryBackend } from './open.js'
export type { RegistrySpec } from './open.js'
export { createEvmBackend, deployRegistry } from './evm/index.js'
export type { EvmBackendInit, DeployInit, DeployedRegistry } from './evm/index.js'
export type { HeldRouterInfo, RouterInfoRules, RouterInfoVerdict } from './router-info-rules.js'
export { checkRouterInfo, DEFAULT_ROUTER_INFO_RULES, routerInfoRules } from './router-info-rules.js'
export type { InvalidRouterInfo } from './router-infos.js'
export { newestRouterInfos } from './router-infos.js'
export { signUsageReport, verifyUsageReport } from './usage-reports.js'
export { checkReport, DEFAULT_REPORT_RULES, type ReportRules } from './report-rules.js'
