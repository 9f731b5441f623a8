/**
 * The FIFO of pending requests on one SAM connection. Each request has its own signal and deadline.
 * A request given up (timeout or abort) before it was written leaves the queue; one already written
 * stays at its place, settled, because the bridge still owes its reply and the replies come in order.
 */

export interface FifoEntry<M> {
  readonly meta: M
  /** Sent on the wire: its reply is owed, even after the request was given up. */
  written: boolean
  /** Resolved, rejected, timed out or aborted. */
  settled: boolean
}

export interface EnqueueOptions {
  signal?: AbortSignal | undefined
  /** ms; Infinity for none. */
  timeout: number
  timeoutError: () => Error
}

interface Handlers<T> {
  resolve(value: T): void
  reject(err: Error): void
  dispose(): void
}

export class RequestFifo<M, T> {
  #entries: FifoEntry<M>[] = []
  readonly #handlers = new Map<FifoEntry<M>, Handlers<T>>()
  #idleWaiters: (() => void)[] = []
  readonly #onGiveUp: (entry: FifoEntry<M>) => void

  /** `onGiveUp` runs after a request timed out or was aborted (e.g. to drop a connection it owned). */
  constructor(onGiveUp: (entry: FifoEntry<M>) => void) {
    this.#onGiveUp = onGiveUp
  }

  get head(): FifoEntry<M> | undefined {
    return this.#entries[0]
  }

  get size(): number {
    return this.#entries.length
  }

  /** True while some request still waits for its outcome. */
  get busy(): boolean {
    return this.#entries.some((entry) => !entry.settled)
  }

  push(meta: M, options: EnqueueOptions): Promise<T> {
    const { signal, timeout } = options
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason as Error)
        return
      }
      const entry: FifoEntry<M> = { meta, written: false, settled: false }
      const onAbort = (): void => {
        this.giveUp(entry, signal?.reason as Error)
      }
      const onTimeout = (): void => {
        this.giveUp(entry, options.timeoutError())
      }
      const timer = Number.isFinite(timeout) ? setTimeout(onTimeout, timeout) : undefined
      signal?.addEventListener('abort', onAbort, { once: true })
      const dispose = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      this.#handlers.set(entry, { resolve, reject, dispose })
      this.#entries.push(entry)
    })
  }

  shift(): FifoEntry<M> | undefined {
    return this.#entries.shift()
  }

  resolve(entry: FifoEntry<M>, value: T): void {
    this.settle(entry)?.resolve(value)
  }

  reject(entry: FifoEntry<M>, err: Error): void {
    this.settle(entry)?.reject(err)
  }

  /** Reject every request and empty the queue (the connection is gone). */
  failAll(err: Error): void {
    const entries = this.#entries
    this.#entries = []
    for (const entry of entries) this.reject(entry, err)
    this.wakeIdle()
  }

  /** Resolves once no request waits for its outcome. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  private giveUp(entry: FifoEntry<M>, err: Error): void {
    if (entry.settled) return
    this.reject(entry, err)
    if (!entry.written) this.#entries = this.#entries.filter((e) => e !== entry)
    this.#onGiveUp(entry)
  }

  private settle(entry: FifoEntry<M>): Handlers<T> | undefined {
    const handlers = this.#handlers.get(entry)
    if (entry.settled || handlers === undefined) return undefined
    entry.settled = true
    this.#handlers.delete(entry)
    handlers.dispose()
    if (!this.busy) this.wakeIdle()
    return handlers
  }

  private wakeIdle(): void {
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const wake of waiters) wake()
  }
}
