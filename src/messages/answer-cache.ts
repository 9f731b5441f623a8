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

/** 16 MiB: ~2,000 answers of a full frame, far more of typical RPC answers. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024

export function createAnswerCache(init: AnswerCacheInit = {}): AnswerCache {
  const maxBytes = init.maxBytes ?? DEFAULT_MAX_BYTES
  const maxAge = init.maxAge ?? MESSAGE_TIME_WINDOW
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
      kept.set(key, { frame, at: now })
      bytes += frame.length
      evict(now)
    },
    get: (sender, id) => kept.get(`${sender}/${id}`)?.frame,
    get bytes() {
      return bytes
    },
  }
}
