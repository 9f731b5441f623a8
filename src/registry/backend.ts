/**
 * What a registry backend provides. Every backend stores and returns *signed bindings* (the exact SCALE
 * payload bytes and the sr25519 signature). Two capabilities are optional, each present or absent as a
 * whole (as js-libp2p's optional services): `routerInfos` (the exact bytes i2pd signed, for a private network
 * to reseed from) and `reports` (signed usage reports). A caller that needs one takes it with
 * `routerInfoStorage(backend)` / `reportStorage(backend)`, which throw ERR_REGISTRY_UNSUPPORTED naming the
 * backend when it is absent; no backend carries stubs that throw.
 *
 * A backend need not be trusted: the resolver (resolver.ts) and the report readers verify every binding,
 * RouterInfo and report they hand out, whatever the backend said. One behavioural suite runs against every
 * backend, per capability (test/helpers/registry-compliance.ts).
 */
import { PRouterError } from '../errors.js'
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

/** The RouterInfo capability. */
export interface RouterInfoStorage {
  /**
   * Store a RouterInfo (exact bytes). Backends that can check (local) verify it (readRouterInfo) and apply
   * the RouterInfo rules (router-info-rules.ts).
   */
  publish(bytes: Uint8Array, options?: BackendCallOptions): Promise<RouterInfoReceipt>
  /** Every stored RouterInfo, exact bytes, unverified (readers verify with readRouterInfo). */
  list(options?: BackendCallOptions): Promise<Uint8Array[]>
}

/** The usage-report capability. */
export interface ReportStorage {
  /**
   * Store a signed usage report. Backends that can check (local) verify it (verifyUsageReport) and apply the
   * report rules (report-rules.ts): one final report per worker and period, no overlapping periods, quotas;
   * backends that cannot (evm) accept what passes their cheap checks and leave the rest to readers.
   */
  publish(report: SignedUsageReport, options?: BackendCallOptions): Promise<ReportReceipt>
  /** The stored reports matching `query`, unverified (readers verify with verifyUsageReport). */
  list(query: ReportQuery, options?: BackendCallOptions): Promise<SignedUsageReport[]>
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
  /** Call `onEvent` for each binding submitted from now on, until `signal` aborts. */
  watch(onEvent: (event: BindingEvent) => void, options: { signal: AbortSignal }): Promise<void>
  close(): Promise<void>
  /**
   * How far before now bindings for this backend are signed (ms; absent: 0). A chain (evm) takes a binding
   * only once its signing time is strictly earlier than the block time, as Phala's pallet does.
   */
  readonly signingLagMs?: number
  /** RouterInfos, where the backend keeps them. */
  readonly routerInfos?: RouterInfoStorage
  /** Usage reports, where the backend keeps them. */
  readonly reports?: ReportStorage
}

/** The signing time of a binding signed `now` for `backend`: now less the backend's signing lag. */
export function signingTimeFor(backend: RegistryBackend, now: number = Date.now()): number {
  return now - (backend.signingLagMs ?? 0)
}

/** The backend's RouterInfos; ERR_REGISTRY_UNSUPPORTED when it keeps none. */
export function routerInfoStorage(backend: RegistryBackend): RouterInfoStorage {
  if (backend.routerInfos !== undefined) return backend.routerInfos
  throw unsupported(backend, 'RouterInfos')
}

/** The backend's usage reports; ERR_REGISTRY_UNSUPPORTED when it keeps none. */
export function reportStorage(backend: RegistryBackend): ReportStorage {
  if (backend.reports !== undefined) return backend.reports
  throw unsupported(backend, 'usage reports')
}

function unsupported(backend: RegistryBackend, what: string): PRouterError {
  return new PRouterError('ERR_REGISTRY_UNSUPPORTED', `the ${backend.kind} registry keeps no ${what}`, {
    detail: { backend: backend.kind },
  })
}
