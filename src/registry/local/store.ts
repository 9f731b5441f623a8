/**
 * The embedded registry: LMDB (the `lmdb` package ships prebuilt binaries, so it installs on Node 20
 * without a compiler; reads are synchronous and sub-microsecond; writes are serialized in transactions).
 * One record per worker key holds the exact signed bytes, so resolvers re-verify what they get.
 * Publishing verifies the signature and applies the pallet's rules (rules.ts) inside one write
 * transaction: concurrent publishes of the same key settle on the newest signing time.
 *
 * Bindings live in the root database under their `0x…` keys; RouterInfos in the size-capped table
 * `router-infos.v2`, one record per router id (router-info-store.ts); usage reports in the size-capped table
 * `usage-reports.v2`, one record per worker and period start (report-store.ts), both on capped-store.ts.
 * The root database also holds LMDB's entries for those names, so bindings are read from the `0x` key
 * range only. The store has both capabilities (backend.ts): `routerInfos` and `reports`.
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
  ReportStorage,
  RouterInfoStorage,
} from '../backend.js'
import type { AcceptanceRules } from '../rules.js'
import { checkAcceptable, DEFAULT_RULES } from '../rules.js'
import type { RouterInfoRules } from '../router-info-rules.js'
import { routerInfoRules } from '../router-info-rules.js'
import { openRouterInfoStore } from './router-info-store.js'
import type { RouterInfoStore } from './router-info-store.js'
import type { ReportRules } from '../report-rules.js'
import { reportRules } from '../report-rules.js'
import { openReportStore } from './report-store.js'
import type { PageOptions, ReportPage, ReportStore } from './report-store.js'

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

/** The local store's usage reports, also in pages of stored JSON (what `registry serve` answers with). */
export interface LocalReportStorage extends ReportStorage {
  page(query: ReportQuery, options?: PageOptions & BackendCallOptions): ReportPage
}

export interface LocalStore extends RegistryBackend {
  readonly kind: 'local'
  readonly routerInfos: RouterInfoStorage
  readonly reports: LocalReportStorage
}

export function openLocalStore(init: LocalStoreInit, components: { logger: Logger }): LocalStore {
  return new LmdbStore(init, components.logger.child({ component: 'registry-store' }))
}

/** The bindings' key range in the root database (worker keys are `0x` + hex). */
const BINDING_KEYS = { start: '0x', end: '0y' }

class LmdbStore implements LocalStore {
  readonly kind = 'local' as const
  private readonly db: RootDatabase<StoredRecord, string>
  readonly routerInfos: RouterInfoStorage
  readonly reports: LocalReportStorage
  private readonly events = new EventEmitter<{ binding: [BindingEvent] }>()
  private readonly rules: AcceptanceRules
  private readonly now: () => number

  constructor(
    init: LocalStoreInit,
    private readonly log: Logger,
  ) {
    const rules = routerInfoRules(init.routerInfoRules)
    // the allow-list of `registry serve --allow` holds for reports too: a key not on it stores nothing
    const allowList = init.rules?.allowList
    const usageRules = reportRules({ ...(allowList === undefined ? {} : { allowList }), ...init.reportRules })
    this.db = open<StoredRecord, string>({ path: init.path, compression: false })
    this.rules = { ...DEFAULT_RULES, ...init.rules }
    this.now = init.now ?? Date.now
    this.routerInfos = routerInfoStorageOf(openRouterInfoStore(this.db, { rules, now: this.now }, log))
    this.reports = reportStorageOf(openReportStore(this.db, { rules: usageRules, now: this.now }, log))
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

function routerInfoStorageOf(store: RouterInfoStore): RouterInfoStorage {
  return {
    publish: async (bytes, options = {}) => {
      options.signal?.throwIfAborted()
      return await store.publish(bytes)
    },
    list: (options = {}) => {
      options.signal?.throwIfAborted()
      return Promise.resolve(store.all())
    },
  }
}

function reportStorageOf(store: ReportStore): LocalReportStorage {
  return {
    publish: async (report, options = {}) => {
      options.signal?.throwIfAborted()
      return await store.publish(report)
    },
    list: (query, options = {}) => {
      options.signal?.throwIfAborted()
      return new Promise((resolve) => {
        resolve(store.list(query)) // a bad query rejects
      })
    },
    page: (query, options = {}) => {
      options.signal?.throwIfAborted()
      return store.page(query, options)
    },
  }
}
