/**
 * Finding a key's newest valid binding among many candidates without paying for the junk. An sr25519 verify
 * costs 3-7 ms of synchronous work, and anyone can log thousands of forged bindings for a key, so:
 * decode first (cheap, no signature); drop what cannot win (malformed, older than the cut-off, not newer than
 * the binding already held); verify the rest newest-first and stop at the first that verifies; remember each
 * verdict by the hash of the signed bytes (a bounded LRU), so a binding is verified once per process; and
 * give the event loop back between verifications (a slice of at most `sliceMs`), checking the signal there.
 */
import { createHash } from 'node:crypto'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { isPRouterError } from '../errors.js'
import { DEFAULT_VERDICT_CACHE_ENTRIES, DEFAULT_VERIFY_SLICE } from '../constants.js'
import type { SignedBinding, VerifiedBinding } from '../identity/index.js'
import { decodeEndpointPayload, verifyBinding, workerKeyHex } from '../identity/index.js'

/** A binding decoded but not verified: what it claims. */
export interface Claim {
  workerKey: string
  signingTime: number
  binding: SignedBinding
}

const SIGNATURE_BYTES = 64

/** What `binding` claims, or undefined when it is malformed (no signature check). */
export function claimOf(binding: SignedBinding): Claim | undefined {
  if (binding.signature.length !== SIGNATURE_BYTES) return undefined
  try {
    const p = decodeEndpointPayload(binding.payload)
    if (p.signingTime > BigInt(Number.MAX_SAFE_INTEGER)) return undefined
    return { workerKey: workerKeyHex(p.pubkey), signingTime: Number(p.signingTime), binding }
  } catch (err) {
    if (isPRouterError(err)) return undefined
    throw err
  }
}

/** Verdicts by the sha256 of the signed bytes: the verified binding, or false for one that does not verify. */
export interface VerdictCache {
  verify(binding: SignedBinding): VerifiedBinding | undefined
  /** Record a verdict reached earlier (e.g. by this daemon, before a restart, kept in its own data dir). */
  remember(verified: VerifiedBinding): void
  readonly size: number
  /** How many signature checks ran (cache misses), for tests and benchmarks. */
  readonly verifications: number
}

export function createVerdictCache(maxEntries = DEFAULT_VERDICT_CACHE_ENTRIES): VerdictCache {
  const verdicts = new Map<string, VerifiedBinding | false>()
  let verifications = 0
  const put = (id: string, verdict: VerifiedBinding | false): void => {
    verdicts.set(id, verdict)
    if (verdicts.size > maxEntries) verdicts.delete(verdicts.keys().next().value as string)
  }
  return {
    remember(verified) {
      put(verdictKey(verified.binding), verified)
    },
    verify(binding) {
      const id = verdictKey(binding)
      const held = verdicts.get(id)
      if (held !== undefined) {
        verdicts.delete(id) // most recently used goes last
        verdicts.set(id, held)
        return held === false ? undefined : held
      }
      verifications++
      const verdict = tryVerify(binding) ?? false
      put(id, verdict)
      return verdict === false ? undefined : verdict
    },
    get size() {
      return verdicts.size
    },
    get verifications() {
      return verifications
    },
  }
}

/** One cache per process unless a caller brings its own: the resolver and the EVM key index share it. */
export const sharedVerdicts: VerdictCache = createVerdictCache()

function verdictKey({ payload, signature }: SignedBinding): string {
  const h = createHash('sha256')
  h.update(Uint32Array.of(payload.length))
  h.update(payload)
  h.update(signature)
  return h.digest('base64')
}

function tryVerify(b: SignedBinding): VerifiedBinding | undefined {
  try {
    return verifyBinding(b)
  } catch (err) {
    if (isPRouterError(err)) return undefined
    throw err
  }
}

/**
 * When some slicer last yielded: one clock for every slicer, so work that chains slicers (decode, then
 * verify, then write the index) or runs after an answer parsed in the same turn still yields within
 * `sliceMs`. After a wait on I/O the first call yields at once (one extra turn, ~free).
 */
let lastYield = performance.now()

/**
 * Call `await slicer()` between pieces of synchronous work: it yields to the event loop once `sliceMs` has
 * passed since the last yield of any slicer, and throws the signal's reason if the caller has aborted.
 */
export function createSlicer(signal?: AbortSignal, sliceMs = DEFAULT_VERIFY_SLICE): () => Promise<void> {
  return async () => {
    signal?.throwIfAborted()
    if (performance.now() - lastYield < sliceMs) return
    await nextTurn()
    signal?.throwIfAborted()
    lastYield = performance.now()
  }
}

export interface PickOptions {
  /** Bindings signed before this (ms) cannot be believed: dropped unverified. */
  notBefore: number
  /** A verified binding already held: candidates not strictly newer are dropped unverified. */
  held?: VerifiedBinding | undefined
  verdicts?: VerdictCache
  signal?: AbortSignal | undefined
  /** Longest run of synchronous work between two yields (ms). */
  sliceMs?: number
  /** A slicer shared with the caller's other work (so many short picks still yield); made here if absent. */
  slice?: () => Promise<void>
}

/** Decode every binding (yielding as it goes); malformed ones are dropped. */
export async function decodeClaims(
  bindings: readonly SignedBinding[],
  options: { signal?: AbortSignal | undefined; sliceMs?: number } = {},
): Promise<Claim[]> {
  const slice = createSlicer(options.signal, options.sliceMs)
  const claims: Claim[] = []
  for (const b of bindings) {
    await slice()
    const claim = claimOf(b)
    if (claim !== undefined) claims.push(claim)
  }
  return claims
}

/**
 * The newest valid binding among `claims` (all of one key), or `options.held` when none is newer, or
 * undefined. Verifies newest-first and stops at the first that verifies.
 */
export async function newestVerified(
  claims: readonly Claim[],
  options: PickOptions,
): Promise<VerifiedBinding | undefined> {
  const floor = Math.max(options.notBefore, (options.held?.signingTime ?? -Infinity) + 1)
  const contenders = claims
    .filter((c) => c.signingTime >= floor)
    .sort((a, b) => b.signingTime - a.signingTime)
  const verdicts = options.verdicts ?? sharedVerdicts
  const slice = options.slice ?? createSlicer(options.signal, options.sliceMs)
  for (const claim of contenders) {
    await slice()
    const verified = verdicts.verify(claim.binding)
    if (verified !== undefined && verified.workerKey === claim.workerKey) return verified
  }
  return options.held !== undefined && options.held.signingTime >= options.notBefore
    ? options.held
    : undefined
}

/**
 * The newest valid binding per key among `claims` (any keys). `heldOf(key)` gives what is already held
 * for a key (only newer candidates are verified, and it wins when none is).
 */
export async function newestPerKey(
  claims: readonly Claim[],
  options: Omit<PickOptions, 'held'> & { heldOf?: (workerKey: string) => VerifiedBinding | undefined },
): Promise<Map<string, VerifiedBinding>> {
  const byKey = new Map<string, Claim[]>()
  for (const c of claims) {
    const list = byKey.get(c.workerKey)
    if (list === undefined) byKey.set(c.workerKey, [c])
    else list.push(c)
  }
  const newest = new Map<string, VerifiedBinding>()
  const slice = createSlicer(options.signal, options.sliceMs)
  for (const [key, list] of byKey) {
    await slice() // a key with nothing newer than its held binding verifies nothing: still counted
    const found = await newestVerified(list, { ...options, held: options.heldOf?.(key), slice })
    if (found !== undefined) newest.set(key, found)
  }
  return newest
}
