/**
 * What `watch` does with the bindings a backend reports: nothing is believed because it was reported.
 * Reported bindings wait in an inbox for one drain loop, which decodes them (yielding between slices), drops
 * unverified what cannot win (malformed, older than the cut-off, not newer than what the resolver holds for
 * its key), keeps at most `perKey` of the newest claims per key, and verifies newest-first (yielding,
 * verdicts cached). A strictly newer valid binding of a key the
 * resolver holds replaces it (`onHeld`; the resolver never extends its expiry); one of a key it does not hold only prompts a real lookup
 * (`onUnheld`), so a replayed older binding can never become the answer for an uncached key.
 */
import { DEFAULT_WATCH_PENDING_PER_KEY } from '../constants.js'
import type { SignedBinding, VerifiedBinding } from '../identity/index.js'
import type { Claim, VerdictCache } from './verify-newest.js'
import { decodeClaims, newestVerified } from './verify-newest.js'

export interface WatchQueueInit {
  /** The verified binding the resolver holds for `workerKey`, if any. */
  held(workerKey: string): VerifiedBinding | undefined
  /** Bindings signed before this (ms) cannot be believed. */
  notBefore(): number
  /** A verified binding not older than the one held for its key (the resolver decides what it changes). */
  onHeld(binding: VerifiedBinding): void
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
  let inbox: SignedBinding[] = []
  const pending = new Map<string, Claim[]>()
  const perKey = init.perKey ?? DEFAULT_WATCH_PENDING_PER_KEY
  let draining: Promise<void> = Promise.resolve()
  let running = false

  const canWin = (claim: Claim): boolean =>
    claim.signingTime >= init.notBefore() &&
    claim.signingTime >= (init.held(claim.workerKey)?.signingTime ?? -1)

  const drainOne = async (workerKey: string, claims: Claim[]): Promise<void> => {
    const held = init.held(workerKey)
    const notBefore = Math.max(init.notBefore(), held?.signingTime ?? -1)
    const found = await newestVerified(claims, { notBefore, verdicts: init.verdicts, signal })
    if (found === undefined) return
    if (held === undefined) await init.onUnheld(workerKey, signal)
    else init.onHeld(found)
  }

  const sort = async (): Promise<void> => {
    const bindings = inbox
    inbox = []
    for (const claim of await decodeClaims(bindings, { signal })) {
      if (!canWin(claim)) continue
      const list = pending.get(claim.workerKey) ?? []
      list.push(claim)
      if (list.length > 2 * perKey) list.sort((a, b) => b.signingTime - a.signingTime).length = perKey
      pending.set(claim.workerKey, list)
    }
  }

  const drain = async (): Promise<void> => {
    try {
      for (;;) {
        if (inbox.length > 0) await sort()
        const next = first(pending)
        if (signal.aborted || (next === undefined && inbox.length === 0)) return
        if (next === undefined) continue
        pending.delete(next[0])
        const [key, claims] = next
        claims.sort((a, b) => b.signingTime - a.signingTime).length = Math.min(claims.length, perKey)
        await drainOne(key, claims).catch(() => undefined) // an abort ends the loop; a failed lookup is its own
      }
    } catch {
      // aborted while decoding: the watch is over
    } finally {
      running = false // in the same turn as the last check of `pending`: no offer can fall in between
    }
  }

  return {
    offer(binding) {
      if (signal.aborted) return
      inbox.push(binding)
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
