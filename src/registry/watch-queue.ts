/**
 * What `watch` does with the bindings a backend reports: nothing is believed because it was reported.
 * A reported binding is decoded; one that cannot win (malformed, older than the cut-off, not newer than
 * what the resolver holds for its key) is dropped unverified; the rest wait, per key, for one drain loop
 * that verifies newest-first (yielding, verdicts cached). A strictly newer valid binding of a key the
 * resolver holds replaces it (`onNewer`); one of a key it does not hold only prompts a real lookup
 * (`onUnheld`), so a replayed older binding can never become the answer for an uncached key.
 */
import { DEFAULT_WATCH_PENDING_PER_KEY } from '../constants.js'
import type { SignedBinding, VerifiedBinding } from '../identity/index.js'
import type { Claim, VerdictCache } from './verify-newest.js'
import { claimOf, newestVerified } from './verify-newest.js'

export interface WatchQueueInit {
  /** The verified binding the resolver holds for `workerKey`, if any. */
  held(workerKey: string): VerifiedBinding | undefined
  /** Bindings signed before this (ms) cannot be believed. */
  notBefore(): number
  /** A verified binding strictly newer than the one held for its key. */
  onNewer(binding: VerifiedBinding): void
  /** A verified binding for a key the resolver does not hold: look it up for real. */
  onUnheld(workerKey: string, signal: AbortSignal): Promise<void>
  verdicts: VerdictCache
  perKey?: number
}

export interface WatchQueue {
  offer(binding: SignedBinding): void
  /** Resolves when the drain loop is idle (after the signal aborted, promptly). */
  idle(): Promise<void>
}

export function createWatchQueue(init: WatchQueueInit, signal: AbortSignal): WatchQueue {
  const pending = new Map<string, Claim[]>()
  const perKey = init.perKey ?? DEFAULT_WATCH_PENDING_PER_KEY
  let draining: Promise<void> = Promise.resolve()
  let running = false

  const canWin = (claim: Claim): boolean =>
    claim.signingTime >= init.notBefore() &&
    claim.signingTime > (init.held(claim.workerKey)?.signingTime ?? -1)

  const drainOne = async (workerKey: string, claims: Claim[]): Promise<void> => {
    const held = init.held(workerKey)
    const found = await newestVerified(claims, {
      notBefore: init.notBefore(),
      held,
      verdicts: init.verdicts,
      signal,
    })
    if (found === undefined || found === held) return
    if (held === undefined) await init.onUnheld(workerKey, signal)
    else init.onNewer(found)
  }

  const drain = async (): Promise<void> => {
    try {
      for (let next = first(pending); next !== undefined && !signal.aborted; next = first(pending)) {
        pending.delete(next[0])
        await drainOne(...next).catch(() => undefined) // an abort ends the loop; a lookup's failure is its own
      }
    } finally {
      running = false // in the same turn as the last check of `pending`: no offer can fall in between
    }
  }

  return {
    offer(binding) {
      const claim = claimOf(binding)
      if (signal.aborted || claim === undefined || !canWin(claim)) return
      const list = pending.get(claim.workerKey) ?? []
      list.push(claim)
      if (list.length > perKey) list.sort((a, b) => b.signingTime - a.signingTime).length = perKey
      pending.set(claim.workerKey, list)
      if (running) return
      running = true
      draining = drain()
    },
    idle: () => draining,
  }
}

function first<K, V>(map: Map<K, V>): [K, V] | undefined {
  return map.entries().next().value
}
