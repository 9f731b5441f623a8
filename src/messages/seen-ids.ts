/**
 * De-duplication and replay refusal at the receiver. A message id is remembered from its first arrival
 * until its signing time + the time window: after that `verifyMessage` refuses the message on its time
 * alone, so forgetting it then lets no replay through. A retry of a message still being delivered is
 * 'pending' (neither delivered again nor acknowledged yet); of one delivered, 'delivered' (acknowledged
 * again, not delivered). When delivery fails the id is forgotten, so the sender's retry delivers it.
 *
 * Memory is bounded: past `maxEntries` unexpired ids a new message is refused with ERR_MESSAGE_BUSY (the
 * sender retries later). Evicting an unexpired id instead would let its replay through.
 */
import { MAX_MESSAGE_IDS_REMEMBERED, MESSAGE_TIME_WINDOW } from '../constants.js'
import { invalidOption, PRouterError } from '../errors.js'

export type Admission = 'new' | 'pending' | 'delivered'

export interface SeenIdsInit {
  window?: number
  maxEntries?: number
}

export interface SeenIds {
  /** 'new' records the id as pending; a known id answers its state. */
  admit(sender: string, id: string, time: number, now: number): Admission
  /** What is known of an id, without recording it (undefined: never admitted, or forgotten). */
  state(sender: string, id: string): Admission | undefined
  delivered(sender: string, id: string): void
  /** Delivery failed: the next arrival of this id is 'new' again. */
  forget(sender: string, id: string): void
  readonly size: number
}

interface Entry {
  delivered: boolean
  expires: number
}

export function createSeenIds(init: SeenIdsInit = {}): SeenIds {
  const window = init.window ?? MESSAGE_TIME_WINDOW
  const maxEntries = init.maxEntries ?? MAX_MESSAGE_IDS_REMEMBERED
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw invalidOption('maxEntries', 'must be a positive integer')
  }
  const entries = new Map<string, Entry>()

  /** Insertion order is close to expiry order; stop at the first id still needed. */
  function sweep(now: number): void {
    for (const [key, entry] of entries) {
      if (entry.expires >= now) return
      entries.delete(key)
    }
  }

  function admit(sender: string, id: string, time: number, now: number): Admission {
    const key = `${sender}/${id}`
    const known = entries.get(key)
    if (known !== undefined) return known.delivered ? 'delivered' : 'pending'
    sweep(now)
    if (entries.size >= maxEntries) {
      throw new PRouterError('ERR_MESSAGE_BUSY', `${entries.size} message ids remembered: retry later`)
    }
    entries.set(key, { delivered: false, expires: time + window })
    return 'new'
  }

  return {
    admit,
    state: (sender, id) => {
      const entry = entries.get(`${sender}/${id}`)
      if (entry === undefined) return undefined
      return entry.delivered ? 'delivered' : 'pending'
    },
    delivered: (sender, id) => {
      const entry = entries.get(`${sender}/${id}`)
      if (entry !== undefined) entry.delivered = true
    },
    forget: (sender, id) => entries.delete(`${sender}/${id}`),
    get size() {
      return entries.size
    },
  }
}
