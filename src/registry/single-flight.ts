/**
 * One piece of work per key in flight: concurrent callers of the same key share it. Each caller's signal
 * rejects that caller at once (with its reason); the shared work is aborted only when every caller has
 * left, so one impatient caller cannot fail the others, and work nobody waits for does not run on.
 */
export interface Flights<T> {
  run(key: string, work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>
  /** How many pieces of work are in flight (for tests). */
  readonly size: number
}

interface Flight<T> {
  promise: Promise<T>
  controller: AbortController
  waiters: number
}

export function createFlights<T>(): Flights<T> {
  const flights = new Map<string, Flight<T>>()

  const start = (key: string, work: (signal: AbortSignal) => Promise<T>): Flight<T> => {
    const controller = new AbortController()
    const flight: Flight<T> = { promise: Promise.resolve() as Promise<T>, controller, waiters: 0 }
    flight.promise = work(controller.signal).finally(() => {
      if (flights.get(key) === flight) flights.delete(key)
    })
    flight.promise.catch(() => undefined) // observed here: a flight every caller left may still reject
    flights.set(key, flight)
    return flight
  }

  const leave = (key: string, flight: Flight<T>, signal: AbortSignal | undefined): void => {
    flight.waiters--
    if (flight.waiters > 0 || signal?.aborted !== true) return
    if (flights.get(key) === flight) flights.delete(key)
    flight.controller.abort(signal.reason)
  }

  return {
    async run(key, work, signal) {
      signal?.throwIfAborted()
      const flight = flights.get(key) ?? start(key, work)
      flight.waiters++
      try {
        return await untilAborted(flight.promise, signal)
      } finally {
        leave(key, flight, signal)
      }
    },
    get size() {
      return flights.size
    },
  }
}

/** `promise`, or a rejection with `signal.reason` as soon as `signal` aborts (the listener removed after). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    void promise.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort)
    })
  })
}
