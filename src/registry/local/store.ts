/**
 * The embedded registry: LMDB (the `lmdb` package ships prebuilt binaries, so it installs on Node 20
 * without a compiler; reads are synchronous and sub-microsecond; writes are serialized in transactions).
 * One record per worker key holds the exact signed bytes, so resolvers re-verify what they get.
 * Publishing verifies the signature and applies the pallet's rules (rules.ts) inside one write
 * transaction: concurrent publishes of the same key settle on the newest signing time.
 *
 * Bindings live in the root database under their `0x…` keys; RouterInfos in the named database
 * `router-infos`, one record per router id (router-info-store.ts); usage reports in the named database
 * `usage-reports`, one record per worker and period start (report-store.ts). The root database also holds
 * LMDB's entries for those names, so bindings are read from the `0x` key range only.
 */
import { EventEmitter, on } from 'node:events'
import { open } from 'lmdb'
import type { RootDatabase } from 'lmdb'
import type { Logger } from '../../logger.js'
import type { SignedBinding } from '../../identity/index.js'
import { bindingFromJson, bindingToJson, verifyBinding } from '../../identity/index.js'
import type {
  BackendCallOptions,
  BindingEvent,
  PublishReceipt,
  RegistryBackend,
  ReportQuery,
  ReportReceipt,
  RouterInfoReceipt,
} from '../backend.js'
import type { SignedUsageReport } from '../../metering/report.js'
import type { AcceptanceRules } from '../rules.js'
import { checkAcceptable, DEFAULT_RULES } from '../rules.js'
import type { RouterInfoRules } from '../router-info-rules.js'
import { routerInfoRules } from '../router-info-rules.js'
import { openRouterInfoStore } from './router-info-store.js'
import type { RouterInfoStore } from './router-info-store.js'
import type { ReportRules } from '../report-rules.js'
import { reportRules } from '../report-rules.js'
import { openReportStore } from './report-store.js'
import type { ReportStore } from './report-store.js'

export interface LocalStoreInit {
  /** Folder of the LMDB environment. */
  path: string
  rules?: Partial<AcceptanceRules>
  /** RouterInfo rules: max age, skew, how many routers, the network (router-info-rules.ts). */
  routerInfoRules?: Partial<RouterInfoRules>
  /** Usage report rules: retention, skew, how many reports (report-rules.ts). */
  reportRules?: Partial<ReportRules>
  /** Clock (ms); tests move it. */
  now?: () => number
}

interface StoredRecord {
  payload: string
  signature: string
  signingTime: number
  storedAt: number
}

export interface LocalStore extends RegistryBackend {
  readonly kind: 'local'
}

export function openLocalStore(init: LocalStoreInit, components: { logger: Logger }): LocalStore {
  return new LmdbStore(init, components.logger.child({ component: 'registry-store' }))
}

/** The bindings' key range in the root database (worker keys are `0x` + hex). */
const BINDING_KEYS = { start: '0x', end: '0y' }

class LmdbStore implements LocalStore {
  readonly kind = 'local' as const
  private readonly db: RootDatabase<StoredRecord, string>
  private readonly routers: RouterInfoStore
  private readonly usage: ReportStore
  private readonly events = new EventEmitter<{ binding: [BindingEvent] }>()
  private readonly rules: AcceptanceRules
  private readonly now: () => number

  constructor(
    init: LocalStoreInit,
    private readonly log: Logger,
  ) {
    const rules = routerInfoRules(init.routerInfoRules)
    const usageRules = reportRules(init.reportRules)
    this.db = open<StoredRecord, string>({ path: init.path, compression: false })
    this.rules = { ...DEFAULT_RULES, ...init.rules }
    this.now = init.now ?? Date.now
    this.routers = openRouterInfoStore(this.db, { rules, now: this.now }, log)
    this.usage = openReportStore(this.db, { rules: usageRules, now: this.now }, log)
    this.events.setMaxListeners(0)
  }

  async publish(binding: SignedBinding, options: BackendCallOptions = {}): Promise<PublishReceipt> {
    options.signal?.throwIfAborted()
    const verified = verifyBinding(binding)
    const json = bindingToJson(binding)
    const record: StoredRecord = { ...json, signingTime: verified.signingTime, storedAt: this.now() }
    await this.db.transaction(() => {
      checkAcceptable(verified, this.db.get(verified.workerKey), this.now(), this.rules)
      void this.db.put(verified.workerKey, record)
    })
    this.log.info({ workerKey: verified.workerKey, signingTime: verified.signingTime }, 'binding stored')
    this.events.emit('binding', { workerKey: verified.workerKey, binding })
    return { ref: String(verified.signingTime) }
  }

  candidates(workerKey: string, options: BackendCallOptions = {}): Promise<SignedBinding[]> {
    options.signal?.throwIfAborted()
    const record = this.db.get(workerKey.toLowerCase())
    return Promise.resolve(record === undefined ? [] : [bindingFromJson(record)])
  }

  all(options: BackendCallOptions = {}): Promise<SignedBinding[]> {
    options.signal?.throwIfAborted()
    return Promise.resolve([...this.db.getRange(BINDING_KEYS)].map(({ value }) => bindingFromJson(value)))
  }

  async publishRouterInfo(bytes: Uint8Array, options: BackendCallOptions = {}): Promise<RouterInfoReceipt> {
    options.signal?.throwIfAborted()
    return await this.routers.publish(bytes)
  }

  routerInfos(options: BackendCallOptions = {}): Promise<Uint8Array[]> {
    options.signal?.throwIfAborted()
    return Promise.resolve(this.routers.all())
  }

  async publishReport(report: SignedUsageReport, options: BackendCallOptions = {}): Promise<ReportReceipt> {
    options.signal?.throwIfAborted()
    return await this.usage.publish(report)
  }

  reports(query: ReportQuery, options: BackendCallOptions = {}): Promise<SignedUsageReport[]> {
    options.signal?.throwIfAborted()
    return new Promise((resolve) => {
      resolve(this.usage.list(query)) // a bad query rejects
    })
  }

  async watch(onEvent: (event: BindingEvent) => void, options: { signal: AbortSignal }): Promise<void> {
    try {
      for await (const [event] of on(this.events, 'binding', { signal: options.signal })) {
        onEvent(event as BindingEvent)
      }
    } catch (err) {
      if (!options.signal.aborted) throw err
    }
  }

  async close(): Promise<void> {
    this.events.removeAllListeners()
    await this.db.close()
  }
}
