/**
 * The answers to requests over datagrams a callee has sent, kept for retries: a caller that lost an answer
 * sends the same request again, and gets the same answer without the service being called twice. Bounded by
 * bytes (oldest first out) and by age (the envelope's time window, after which a retry is refused anyway).
 * A retry whose answer is gone is refused with ERR_ANSWER_LOST, never served again.
 */
import { MESSAGE_TIME_WINDOW } from '../constants.js'

export interface AnswerCacheInit {
  maxBytes?: number
  maxAge?: number
}

export interface AnswerCache {
  put(sender: string, id: string, frame: Buffer, now: number): void
  get(sender: string, id: string): Buffer | undefined
  readonly bytes: number
}

/** 4 MiB: ~500 answers of a full frame, thousands of typical RPC answers. */
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024
/** A caller retries no longer than the envelope's time window. */
const DEFAULT_MAX_AGE = MESSAGE_TIME_WINDOW

export function createAnswerCache(init: AnswerCacheInit = {}): AnswerCache {
  const maxBytes = init.maxBytes ?? DEFAULT_MAX_BYTES
  const maxAge = init.maxAge ?? DEFAULT_MAX_AGE
  const kept = new Map<string, { frame: Buffer; at: number }>()
  let bytes = 0

  const drop = (key: string): void => {
    const entry = kept.get(key)
    if (entry === undefined) return
    bytes -= entry.frame.length
    kept.delete(key)
  }

  /** Oldest first (a Map keeps insertion order): over the byte bound, or older than maxAge. */
  const evict = (now: number): void => {
    for (const [key, entry] of kept) {
      if (bytes <= maxBytes && now - entry.at <= maxAge) return
      drop(key)
    }
  }

  return {
    put(sender, id, frame, now) {
      const key = `${sender}/${id}`
      drop(key)
      // a copy of its own: a small Buffer is a slice of a shared 8 KiB slab, which it would keep alive
      const own = Buffer.allocUnsafeSlow(frame.length)
      frame.copy(own)
      kept.set(key, { frame: own, at: now })
      bytes += frame.length
      evict(now)
    },
    get: (sender, id) => kept.get(`${sender}/${id}`)?.frame,
    get bytes() {
      return bytes
    },
  }
}
