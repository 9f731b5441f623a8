import { invalidOption } from './errors.js'

/** Small cancellation helpers shared by every module: linked signals, deadlines, abortable sleep. */

export interface LinkedSignal {
  readonly signal: AbortSignal
  /** Remove the listeners on the source signals (call when the operation ends). */
  dispose(): void
}

/**
 * A signal that aborts, with the same reason, when any source aborts. Unlike `AbortSignal.any`, the
 * listeners it adds to long-lived sources (a session's own signal) are removed by `dispose()`.
 */
export function linkSignals(...sources: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController()
  const present = sources.filter((s): s is AbortSignal => s !== undefined)
  const aborted = present.find((s) => s.aborted)
  if (aborted !== undefined) {
    controller.abort(aborted.reason)
    return { signal: controller.signal, dispose: () => undefined }
  }
  const onAbort = (event: Event): void => {
    dispose()
    controller.abort((event.target as AbortSignal).reason)
  }
  const dispose = (): void => {
    for (const s of present) s.removeEventListener('abort', onAbort)
  }
  for (const s of present) s.addEventListener('abort', onAbort, { once: true })
  return { signal: controller.signal, dispose }
}

/**
 * A linked signal that also aborts after `ms` with a TimeoutError. Not `AbortSignal.timeout()` inside
 * `AbortSignal.any()`: on Node 20 the inner timeout signal can be garbage-collected before it fires, and
 * the deadline silently never comes (seen here in the router's readiness loop). The timer here is held
 * until `dispose()`.
 */
export function deadlineSignal(ms: number, ...sources: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const timeout = new AbortController()
  const linked = linkSignals(timeout.signal, ...sources)
  const timer = setTimeout(() => {
    timeout.abort(new DOMException(`deadline of ${ms} ms passed`, 'TimeoutError'))
  }, ms)
  timer.unref()
  return {
    signal: linked.signal,
    dispose: () => {
      clearTimeout(timer)
      linked.dispose()
    },
  }
}

/** Whether `err` is the TimeoutError a deadlineSignal aborts with. */
export function isTimeoutReason(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'TimeoutError'
}

/** Wait `ms`; reject with `signal.reason` (not a generic AbortError) if the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason as Error)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * What `work` yields, or `signal.reason` as soon as the signal aborts (the work is not cancelled: whatever it
 * yields after that goes to `discard`, so that nothing it opened is left behind).
 */
export function abortable<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  discard: (late: T) => void,
): Promise<T> {
  if (signal === undefined) return work
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error)
      work.then(discard, () => undefined)
    }
    if (signal.aborted) {
      onAbort()
      return
    }
    signal.addEventListener('abort', onAbort, { once: true })
    work
      .finally(() => {
        signal.removeEventListener('abort', onAbort)
      })
      .then(resolve, reject)
  })
}

/**
 * Milliseconds left until `deadline` (a Date.now() value); at least 1, so that a deadline already
 * passed still yields a valid timeout that fires at once. Infinity stays Infinity.
 */
export function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now())
}

/** Check a timeout option: a positive number of milliseconds, or Infinity for none. */
export function checkTimeout(value: number | undefined, name: string, fallback: number): number {
  const timeout = value ?? fallback
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout <= 0) {
    throw invalidOption(name, `must be a positive number of milliseconds, got ${String(timeout)}`)
  }
  return timeout
}

/** `signal.aborted`, read through a call: after an `await` the flag may have changed (type narrowing forgets). */
export function isAborted(signal: AbortSignal): boolean {
  return signal.aborted
}
