/**
 * The registry as PRouter uses it, over any backend. Backends are not trusted: every binding is verified
 * (sr25519 over 0xff 0x02 ++ SCALE payload) before it is believed, and among a key's candidates the newest
 * signing time that verifies wins — so a forged or replayed submission can neither be believed nor hide a
 * later valid one. Verified answers are cached for a short TTL, so repeated lookups cost a map read.
 * Junk costs little (verify-newest.ts): candidates are decoded first, what cannot win is dropped unverified,
 * the rest verified newest-first with verdicts cached and the event loop given back between checks; one
 * lookup per key and one `list()` are in flight at a time (single-flight.ts). `watch` believes nothing
 * because it was reported (watch-queue.ts).
 * RouterInfos are treated alike: verified before they are relayed or believed, the newest per router kept.
 */
import { PRouterError } from '../errors.js'
import { DEFAULT_RESOLVE_CACHE_TTL, DEFAULT_RESOLVE_MAX_AGE } from '../constants.js'
import type { Logger } from '../logger.js'
import type { SignedBinding, VerifiedBinding } from '../identity/index.js'
import { parseI2pEndpoint, parseWorkerKey, verifyBinding, workerKeyHex } from '../identity/index.js'
import { readRouterInfo } from '../i2p/index.js'
import type { RouterInfo } from '../i2p/index.js'
import type {
  BackendCallOptions,
  PublishReceipt,
  RegistryBackend,
  ReportQuery,
  ReportReceipt,
  RouterInfoReceipt,
} from './backend.js'
import { reportStorage, routerInfoStorage } from './backend.js'
import type { SignedUsageReport } from '../metering/report.js'
import { canonicalReport } from '../metering/report.js'
import { verifyUsageReport } from './usage-reports.js'
import { errorFields } from '../redact.js'
import { newestRouterInfos, oncePerRecord } from './router-infos.js'
import type { InvalidRouterInfo } from './router-infos.js'
import { createFlights } from './single-flight.js'
import type { VerdictCache } from './verify-newest.js'
import { decodeClaims, newestPerKey, newestVerified, sharedVerdicts } from './verify-newest.js'
import { createWatchQueue } from './watch-queue.js'

export interface RegistryInit {
  backend: RegistryBackend
  /** How long a verified answer is reused (ms). 0 disables the cache. */
  cacheTtlMs?: number
  /** Bindings older than this are not believed (ms). */
  maxAgeMs?: number
  now?: () => number
  /** Signature verdicts remembered by hash of the signed bytes (default: one cache per process). */
  verdicts?: VerdictCache
}

export type PublishedBinding = VerifiedBinding & PublishReceipt

export interface Registry {
  readonly backend: RegistryBackend
  /** Verify, then publish; resolves with what was published (verified) and the backend's reference. */
  publish(binding: SignedBinding, options?: BackendCallOptions): Promise<PublishedBinding>
  /** The newest valid binding of `workerKey`; ERR_INVALID_WORKER_KEY, ERR_REGISTRY_NOT_FOUND. */
  resolve(workerKey: string, options?: BackendCallOptions): Promise<VerifiedBinding>
  /** The worker key whose newest valid binding names this I2P address (`x.b32.i2p` or `i2p://x.b32.i2p`). */
  reverse(i2pAddress: string, options?: BackendCallOptions): Promise<string>
  /** The newest valid binding of every key. */
  list(options?: BackendCallOptions): Promise<VerifiedBinding[]>
  /** Verify (readRouterInfo), then store; ERR_REGISTRY_UNSUPPORTED where the backend keeps no RouterInfos. */
  publishRouterInfo(bytes: Uint8Array, options?: BackendCallOptions): Promise<RouterInfoReceipt>
  /** The backend's RouterInfos as it returned them: exact bytes, unverified. */
  routerInfos(options?: BackendCallOptions): Promise<Uint8Array[]>
  /** Every RouterInfo that verifies, the newest per router; bad ones are dropped (logged at warn once each). */
  verifiedRouterInfos(options?: BackendCallOptions): Promise<RouterInfo[]>
  /** Verify (verifyUsageReport), then store; ERR_REGISTRY_UNSUPPORTED where the backend keeps no reports. */
  publishReport(report: SignedUsageReport, options?: BackendCallOptions): Promise<ReportReceipt>
  /** The reports matching `query` that verify; bad ones are dropped (logged at warn). */
  verifiedReports(query: ReportQuery, options?: BackendCallOptions): Promise<SignedUsageReport[]>
  /** Verified changes, until `signal` aborts; a change also refreshes the cache. */
  watch(onChange: (binding: VerifiedBinding) => void, options: { signal: AbortSignal }): Promise<void>
  close(): Promise<void>
}

/** Verify each candidate, drop what fails, keep the newest (by signing time) per worker key. */
export function newestValid(bindings: readonly SignedBinding[], notBefore = 0): Map<string, VerifiedBinding> {
  const newest = new Map<string, VerifiedBinding>()
  for (const b of bindings) {
    const v = tryVerify(b)
    if (v === undefined || v.signingTime < notBefore) continue
    const held = newest.get(v.workerKey)
    if (held === undefined || v.signingTime > held.signingTime) newest.set(v.workerKey, v)
  }
  return newest
}

function tryVerify(b: SignedBinding): VerifiedBinding | undefined {
  return sharedVerdicts.verify(b)
}

export function createRegistry(init: RegistryInit, components: { logger: Logger }): Registry {
  return new VerifyingRegistry(
    init,
    components.logger.child({ component: 'registry', backend: init.backend.kind }),
  )
}

interface CacheEntry {
  binding: VerifiedBinding
  expires: number
}

class VerifyingRegistry implements Registry {
  readonly backend: RegistryBackend
  private readonly cache = new Map<string, CacheEntry>()
  private readonly byAddress = new Map<string, string>()
  private readonly ttl: number
  private readonly maxAge: number
  private readonly now: () => number
  private readonly reportInvalid: (invalid: InvalidRouterInfo) => void
  private readonly verdicts: VerdictCache
  private readonly lookups = createFlights<VerifiedBinding>()
  private readonly listing = createFlights<VerifiedBinding[]>()

  constructor(
    init: RegistryInit,
    private readonly log: Logger,
  ) {
    this.backend = init.backend
    this.ttl = init.cacheTtlMs ?? DEFAULT_RESOLVE_CACHE_TTL
    this.maxAge = init.maxAgeMs ?? DEFAULT_RESOLVE_MAX_AGE
    this.now = init.now ?? Date.now
    this.verdicts = init.verdicts ?? sharedVerdicts
    this.reportInvalid = oncePerRecord(({ code, message, digest }) => {
      this.log.warn({ code, digest }, `dropped a RouterInfo that does not verify: ${message}`)
    })
  }

  async publish(binding: SignedBinding, options?: BackendCallOptions): Promise<PublishedBinding> {
    const verified = verifyBinding(binding) // never relay what would not verify
    const receipt = await this.backend.publish(binding, options)
    this.remember(verified)
    return { ...verified, ...receipt }
  }

  async resolve(workerKey: string, options: BackendCallOptions = {}): Promise<VerifiedBinding> {
    const key = workerKeyHex(parseWorkerKey(workerKey))
    const hit = this.cache.get(key)
    if (hit !== undefined && hit.expires > this.now()) return hit.binding
    return await this.lookups.run(key, (signal) => this.lookUp(key, signal), options.signal)
  }

  /** The backend's candidates for `key`: decoded, what cannot win dropped, the rest verified newest-first. */
  private async lookUp(key: string, signal: AbortSignal): Promise<VerifiedBinding> {
    const candidates = await this.backend.candidates(key, { signal })
    const claims = (await decodeClaims(candidates, { signal })).filter((c) => c.workerKey === key)
    const found = await newestVerified(claims, {
      notBefore: this.notBefore(),
      verdicts: this.verdicts,
      signal,
    })
    if (found === undefined) {
      this.cache.delete(key)
      throw new PRouterError(
        'ERR_REGISTRY_NOT_FOUND',
        `no valid binding for worker ${key} in the ${this.backend.kind} registry`,
      )
    }
    return this.remember(found)
  }

  async reverse(i2pAddress: string, options?: BackendCallOptions): Promise<string> {
    const b32 = normalizeAddress(i2pAddress)
    const known = this.byAddress.get(b32)
    if (known !== undefined) {
      const current = await this.resolve(known, options).catch(() => undefined)
      if (current !== undefined && addressesOf(current).includes(b32)) return known
    }
    const listed = await this.list(options)
    for (const binding of listed) this.remember(binding)
    // decided on the newest bindings just listed, not on the address map, which may still hold an address a
    // worker has since moved away from
    const found = listed.find((b) => addressesOf(b).includes(b32))?.workerKey
    if (found === undefined) {
      throw new PRouterError('ERR_REGISTRY_NOT_FOUND', `no worker has a valid binding to ${b32}`)
    }
    return found
  }

  async list(options: BackendCallOptions = {}): Promise<VerifiedBinding[]> {
    return [...(await this.listing.run('list', (signal) => this.listAll(signal), options.signal))]
  }

  private async listAll(signal: AbortSignal): Promise<VerifiedBinding[]> {
    const claims = await decodeClaims(await this.backend.all({ signal }), { signal })
    const newest = await newestPerKey(claims, {
      notBefore: this.notBefore(),
      heldOf: (key) => this.cache.get(key)?.binding,
      verdicts: this.verdicts,
      signal,
    })
    return [...newest.values()]
  }

  async publishRouterInfo(bytes: Uint8Array, options?: BackendCallOptions): Promise<RouterInfoReceipt> {
    readRouterInfo(bytes) // never relay what would not verify
    return await routerInfoStorage(this.backend).publish(bytes, options)
  }

  async routerInfos(options?: BackendCallOptions): Promise<Uint8Array[]> {
    return await routerInfoStorage(this.backend).list(options)
  }

  async verifiedRouterInfos(options?: BackendCallOptions): Promise<RouterInfo[]> {
    return newestRouterInfos(await routerInfoStorage(this.backend).list(options), this.reportInvalid)
  }

  async publishReport(report: SignedUsageReport, options?: BackendCallOptions): Promise<ReportReceipt> {
    const storage = reportStorage(this.backend)
    return await storage.publish(verifyUsageReport(report), options) // never relay a bad signature
  }

  async verifiedReports(query: ReportQuery, options?: BackendCallOptions): Promise<SignedUsageReport[]> {
    const verified: SignedUsageReport[] = []
    const taken = new Set<string>() // one report signed twice (a chain logs both) is listed once
    for (const r of await reportStorage(this.backend).list(query, options)) {
      try {
        const signed = verifyUsageReport(r)
        const identity = canonicalReport(signed.report)
        if (taken.has(identity)) continue
        taken.add(identity)
        verified.push(signed)
      } catch (err) {
        const { code, message } = errorFields(err)
        this.log.warn(
          { code },
          `the registry returned a usage report that does not verify: dropped: ${message}`,
        )
      }
    }
    return verified
  }

  /**
   * A reported binding replaces a cached one only if it verifies and is strictly newer, and never extends
   * the entry's expiry; one for a key not cached prompts a real lookup, whose answer (the registry's newest)
   * is what `onChange` gets.
   */
  async watch(onChange: (binding: VerifiedBinding) => void, options: { signal: AbortSignal }): Promise<void> {
    const queue = createWatchQueue(
      {
        held: (key) => this.cache.get(key)?.binding,
        notBefore: () => this.notBefore(),
        onHeld: (binding) => {
          if (this.replace(binding) || this.isHeld(binding)) onChange(binding)
        },
        onUnheld: async (key, signal) => {
          onChange(await this.resolve(key, { signal }))
        },
        verdicts: this.verdicts,
      },
      options.signal,
    )
    try {
      await this.backend.watch(({ binding }) => {
        queue.offer(binding)
      }, options)
    } finally {
      await queue.idle()
    }
  }

  close(): Promise<void> {
    this.cache.clear()
    return this.backend.close()
  }

  private notBefore(): number {
    return this.now() - this.maxAge
  }

  /** Cache a verified binding (a newer one already held stays); what is now the key's answer. */
  private remember(binding: VerifiedBinding): VerifiedBinding {
    const held = this.cache.get(binding.workerKey)?.binding
    const newest = held !== undefined && held.signingTime > binding.signingTime ? held : binding
    if (this.ttl > 0) this.cache.set(binding.workerKey, { binding: newest, expires: this.now() + this.ttl })
    for (const address of addressesOf(newest)) this.byAddress.set(address, newest.workerKey)
    return newest
  }

  /** Whether `binding` is, byte for byte, the one cached for its key (e.g. one this registry published). */
  private isHeld(binding: VerifiedBinding): boolean {
    const held = this.cache.get(binding.workerKey)?.binding.binding
    return (
      held !== undefined &&
      Buffer.from(held.payload).equals(binding.binding.payload) &&
      Buffer.from(held.signature).equals(binding.binding.signature)
    )
  }

  /** A strictly newer verified binding takes a cached entry's place, keeping its expiry. */
  private replace(binding: VerifiedBinding): boolean {
    const entry = this.cache.get(binding.workerKey)
    if (entry === undefined || entry.binding.signingTime >= binding.signingTime) return false
    this.cache.set(binding.workerKey, { binding, expires: entry.expires })
    for (const address of addressesOf(binding)) this.byAddress.set(address, binding.workerKey)
    return true
  }
}

function addressesOf(binding: VerifiedBinding): string[] {
  return binding.endpoints.map(parseI2pEndpoint).filter((a): a is string => a !== undefined)
}

function normalizeAddress(address: string): string {
  const b32 = parseI2pEndpoint(address) ?? parseI2pEndpoint(`i2p://${address}`)
  if (b32 === undefined) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `"${address.slice(0, 80)}" is not an I2P b32 address`)
  }
  return b32
}
