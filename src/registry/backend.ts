/**
 * What every registry backend provides. A backend stores and returns *signed bindings* (the exact SCALE
 * payload bytes and the sr25519 signature) and, where it can, *RouterInfos* (the exact bytes i2pd signed,
 * for a private network to reseed from); it need not be trusted: the resolver (resolver.ts) verifies every
 * binding and RouterInfo it hands out, whatever the backend said. One behavioural suite runs against every
 * backend (test/helpers/registry-compliance.ts).
 */
import type { SignedBinding } from '../identity/index.js'
import type { SignedUsageReport } from '../metering/report.js'

export interface BackendCallOptions {
  signal?: AbortSignal
}

export interface PublishReceipt {
  /** Backend-specific reference: a transaction hash (evm), or the stored signing time (local). */
  ref: string
}

/** What a stored RouterInfo is: its router's id (I2P base64 of the identity hash) and publication time (ms). */
export interface RouterInfoReceipt {
  id: string
  published: number
}

/** Which usage reports to list: periods that overlap [from, to) (ms), optionally of one worker only. */
export interface ReportQuery {
  from?: number
  to?: number
  workerKey?: string
}

/** A stored usage report: its worker and period start. */
export interface ReportReceipt {
  workerKey: string
  start: number
}

/** A change seen by `watch`: a new binding submitted for `workerKey` (not yet verified). */
export interface BindingEvent {
  workerKey: string
  binding: SignedBinding
}

export interface RegistryBackend {
  /** 'local', 'local-http', 'evm' … */
  readonly kind: string
  /**
   * Submit a signed binding. Backends that can check (local) refuse bad signatures, stale or future
   * signing times and rollbacks with a coded error; backends that cannot (evm) accept and leave it to
   * resolvers.
   */
  publish(binding: SignedBinding, options?: BackendCallOptions): Promise<PublishReceipt>
  /** Every binding the backend holds for `workerKey` (0x-hex sr25519 public key), any order, unverified. */
  candidates(workerKey: string, options?: BackendCallOptions): Promise<SignedBinding[]>
  /** Every binding the backend holds, unverified (resolvers keep the newest valid one per key). */
  all(options?: BackendCallOptions): Promise<SignedBinding[]>
  /**
   * Store a RouterInfo (exact bytes). Backends that can check (local) verify it (readRouterInfo) and apply
   * the RouterInfo rules (router-info-rules.ts); backends without RouterInfo storage (evm) throw
   * ERR_REGISTRY_UNSUPPORTED.
   */
  publishRouterInfo(bytes: Uint8Array, options?: BackendCallOptions): Promise<RouterInfoReceipt>
  /** Every stored RouterInfo, exact bytes, unverified (readers verify with readRouterInfo). */
  routerInfos(options?: BackendCallOptions): Promise<Uint8Array[]>
  /**
   * Store a signed usage report. Backends that can check (local) verify it (verifyUsageReport) and apply the
   * report rules (report-rules.ts): one final report per worker and period; backends without report storage
   * (evm) throw ERR_REGISTRY_UNSUPPORTED.
   */
  publishReport(report: SignedUsageReport, options?: BackendCallOptions): Promise<ReportReceipt>
  /** The stored reports matching `query`, unverified (readers verify with verifyUsageReport). */
  reports(query: ReportQuery, options?: BackendCallOptions): Promise<SignedUsageReport[]>
  /** Call `onEvent` for each binding submitted from now on, until `signal` aborts. */
  watch(onEvent: (event: BindingEvent) => void, options: { signal: AbortSignal }): Promise<void>
  close(): Promise<void>
}
