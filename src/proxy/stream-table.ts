/**
 * The inbound streams held open, and who holds them. Three bounds keep anonymous callers from crowding out
 * registered ones: at most `maxPerCaller` streams per caller address (source b32), an anonymous stream with no
 * request in progress (or one that has not yet said who it is: a silent stream) is closed after
 * `anonymousIdleTimeout`, and when all `maxStreams` are taken a new stream
 * evicts another (an idle one, anonymous first, the longest idle first; else a busy anonymous one) instead of
 * being refused. Only when every stream is busy with a registered caller is a new one refused.
 */
import { PRouterError } from '../errors.js'

export interface StreamTableInit {
  maxStreams: number
  maxPerCaller: number
  anonymousIdleTimeout: number
}

interface Closable {
  destroy(): void
}

export interface StreamTable<S extends Closable> {
  readonly size: number
  /** Take a slot for `stream` from `caller` (its b32), evicting an idle stream if full; else the refusal. */
  admit(stream: S, caller: string): PRouterError | undefined
  /** The stream closed: free its slot (idempotent). */
  remove(stream: S): void
  /** The caller's identity is known: anonymous streams get the short idle time. */
  identified(stream: S, anonymous: boolean): void
  /** A request starts on `stream` (it is busy), or ends (idle when none is left). */
  requestStarted(stream: S): void
  requestEnded(stream: S): void
  /** Streams held per caller address now. */
  callers(): Map<string, number>
  /** Clear every timer (streams are the owner's to destroy). */
  clear(): void
}

interface Entry {
  caller: string
  anonymous: boolean | undefined
  requests: number
  idleSince: number
  timer: NodeJS.Timeout | undefined
}

export function createStreamTable<S extends Closable>(init: StreamTableInit): StreamTable<S> {
  const entries = new Map<S, Entry>()
  const perCaller = new Map<string, number>()

  const count = (caller: string, by: number): void => {
    const n = (perCaller.get(caller) ?? 0) + by
    if (n > 0) perCaller.set(caller, n)
    else perCaller.delete(caller)
  }
  const remove = (stream: S): void => {
    const e = entries.get(stream)
    if (e === undefined) return
    clearTimeout(e.timer)
    entries.delete(stream)
    count(e.caller, -1)
  }
  const evict = (stream: S): void => {
    remove(stream)
    stream.destroy()
  }
  /**
   * An idle stream not known to be a registered caller's is closed after the short idle time (a caller proves
   * itself with its first request, sent at once); a registered one has the server's keep-alive.
   */
  const arm = (stream: S, e: Entry): void => {
    clearTimeout(e.timer)
    e.timer = undefined
    if (e.requests > 0 || e.anonymous === false) return
    e.timer = setTimeout(() => {
      evict(stream)
    }, init.anonymousIdleTimeout)
    e.timer.unref()
  }
  /**
   * The stream to give up for a newcomer: an idle anonymous (or not yet identified) one, the longest idle
   * first; else an idle registered one; else the oldest busy anonymous one (its request is cut short).
   * Busy registered streams are never given up.
   */
  const victim = (): S | undefined => {
    let best: { stream: S; rank: number; since: number } | undefined
    for (const [stream, e] of entries) {
      const anonymous = e.anonymous !== false
      const rank = e.requests === 0 ? (anonymous ? 0 : 1) : anonymous ? 2 : undefined
      if (rank === undefined) continue
      if (best === undefined || rank < best.rank || (rank === best.rank && e.idleSince < best.since)) {
        best = { stream, rank, since: e.idleSince }
      }
    }
    return best?.stream
  }

  return {
    get size() {
      return entries.size
    },
    admit(stream, caller) {
      if ((perCaller.get(caller) ?? 0) >= init.maxPerCaller) {
        return tooMany(`${init.maxPerCaller} inbound streams from ${caller} are open`)
      }
      if (entries.size >= init.maxStreams) {
        const given = victim()
        if (given === undefined)
          return tooMany(`${init.maxStreams} inbound streams are busy with registered callers`)
        evict(given)
      }
      const e: Entry = {
        caller,
        anonymous: undefined,
        requests: 0,
        idleSince: performance.now(),
        timer: undefined,
      }
      entries.set(stream, e)
      count(caller, 1)
      arm(stream, e)
      return undefined
    },
    remove,
    identified(stream, anonymous) {
      const e = entries.get(stream)
      if (e === undefined) return
      e.anonymous = anonymous
      arm(stream, e)
    },
    requestStarted(stream) {
      const e = entries.get(stream)
      if (e === undefined) return
      e.requests++
      arm(stream, e)
    },
    requestEnded(stream) {
      const e = entries.get(stream)
      if (e === undefined) return
      e.requests = Math.max(0, e.requests - 1)
      e.idleSince = performance.now()
      arm(stream, e)
    },
    callers: () => new Map(perCaller),
    clear() {
      for (const e of entries.values()) clearTimeout(e.timer)
    },
  }
}

function tooMany(message: string): PRouterError {
  return new PRouterError('ERR_TOO_MANY_STREAMS', message)
}
