/**
 * One lifecycle for the daemon's parts, as js-libp2p's `Startable`: every part has an idempotent `start()` and
 * `stop()`; `createLifecycle` starts them in order and stops the started ones in reverse, each stop under its
 * own bound and all of them under one; `createLoop` is the one background loop (run, wait, run again with
 * capped backoff after failures, its timer owned and cleared, aborted on stop) the parts are built from.
 */
import { backoffDelay } from './backoff.js'
import { PRouterError } from './errors.js'
import type { Logger } from './logger.js'
import { isAborted, linkSignals } from './signals.js'
import { DEFAULT_DAEMON_STOP_TIMEOUT, DEFAULT_PART_STOP_TIMEOUT } from './constants.js'

export interface Startable {
  /** Start; resolves once the part is up. Calling it again while started does nothing. */
  start(signal?: AbortSignal): Promise<void> | void
  /** Stop what start started; resolves once it is down. Idempotent. */
  stop(): Promise<void> | void
}

export interface Part extends Startable {
  name: string
  /** The bound of this part's stop (default DEFAULT_PART_STOP_TIMEOUT). */
  stopTimeout?: number
  /** Called when `stop()` overran its bound: end at once what is left (kill a process, destroy sockets). */
  destroy?: () => void
}

export interface Lifecycle {
  /** Start every part in order; if one fails, stop those started (in reverse) and reject with its error. */
  start(signal?: AbortSignal): Promise<void>
  /** Stop the started parts in reverse order, within the lifecycle's bound. Idempotent. */
  stop(): Promise<void>
  /** The parts started and not stopped, in start order. */
  readonly started: readonly string[]
}

export function createLifecycle(
  parts: readonly Part[],
  components: { logger: Logger },
  init: { stopTimeout?: number } = {},
): Lifecycle {
  const log = components.logger
  const started: Part[] = []
  const stopTimeout = init.stopTimeout ?? DEFAULT_DAEMON_STOP_TIMEOUT
  const lifetime = new AbortController()
  let starting: Promise<void> | undefined
  let stopping: Promise<void> | undefined

  const startParts = async (signal: AbortSignal): Promise<void> => {
    for (const part of parts) {
      signal.throwIfAborted()
      started.push(part) // before it is up: a part that fails half-way may hold something, and its stop is idempotent
      await part.start(signal)
    }
  }

  const stopParts = async (): Promise<void> => {
    const deadline = Date.now() + stopTimeout
    for (let part = started.pop(); part !== undefined; part = started.pop()) {
      const bound = Math.max(
        0,
        Math.min(part.stopTimeout ?? DEFAULT_PART_STOP_TIMEOUT, deadline - Date.now()),
      )
      const outcome = await within(bound, async () => {
        await part.stop()
      })
      if (outcome === 'done') continue
      if (outcome === 'timeout') log.warn({ part: part.name, ms: bound }, 'stop overran its bound: destroyed')
      else log.warn({ part: part.name, err: outcome.err }, 'stop failed')
      part.destroy?.()
    }
  }

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      lifetime.abort(new PRouterError('ERR_DAEMON_STOPPED', 'stopped while starting'))
      await starting?.catch(() => undefined) // the part starting now ends (aborted), then all go down
      await stopParts()
    })()
    return stopping
  }

  return {
    get started() {
      return started.map((p) => p.name)
    },
    async start(signal) {
      signal?.throwIfAborted()
      if (stopping !== undefined) throw new PRouterError('ERR_DAEMON_STOPPED', 'stopped: create a new one')
      if (starting === undefined) {
        const linked = linkSignals(signal, lifetime.signal)
        starting = startParts(linked.signal).finally(() => {
          linked.dispose()
        })
      }
      try {
        await starting
      } catch (err) {
        await stop()
        throw err
      }
    },
    stop,
  }
}

/** Run `fn` for at most `ms`: 'done', 'timeout' (it goes on in the background, its end ignored) or its error. */
async function within(ms: number, fn: () => Promise<void>): Promise<'done' | 'timeout' | { err: unknown }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, ms, 'timeout')
  })
  const run = fn().then(
    () => 'done' as const,
    (err: unknown) => ({ err }),
  )
  try {
    return await Promise.race([run, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export interface LoopInit {
  /** For logs and the abort reason. */
  name: string
  /** One round; rejects to count a failure. Should end soon when `signal` aborts. */
  run: (signal: AbortSignal) => Promise<void>
  /** Wait after a round that succeeded (ms). */
  every: number
  /** Waits after consecutive failures: min, 2·min … max (src/backoff.ts). */
  backoff: { min: number; max: number }
  /** Wait `every` before the first round (default: the first round runs at once). */
  delayFirst?: boolean
  /** Told of each failure (default: logged as a warning). */
  onError?: (err: unknown, failures: number) => void
}

export interface Loop extends Startable {
  /** Failures in a row so far (0 after a round that succeeded). */
  readonly failures: number
  readonly running: boolean
  start(): void
  stop(): Promise<void>
}

export function createLoop(init: LoopInit, components: { logger: Logger }): Loop {
  const log = components.logger
  let failures = 0
  let current: { controller: AbortController; done: Promise<void> } | undefined

  const loop = async (signal: AbortSignal): Promise<void> => {
    if (init.delayFirst === true) await wait(init.every, signal)
    while (!signal.aborted) {
      try {
        await init.run(signal)
        failures = 0
      } catch (err) {
        if (isAborted(signal)) return
        failures++
        if (init.onError === undefined)
          log.warn({ err, failures, loop: init.name }, `${init.name} failed; retrying`)
        else init.onError(err, failures)
      }
      await wait(
        failures === 0 ? init.every : backoffDelay(failures - 1, init.backoff.min, init.backoff.max),
        signal,
      )
    }
  }

  return {
    get failures() {
      return failures
    },
    get running() {
      return current !== undefined
    },
    start() {
      if (current !== undefined) return
      const controller = new AbortController()
      current = { controller, done: loop(controller.signal) }
    },
    async stop() {
      const running = current
      if (running === undefined) return
      running.controller.abort(new PRouterError('ERR_DAEMON_STOPPED', `${init.name} stopped`))
      await running.done
      if (current === running) current = undefined
    },
  }
}

/** Wait `ms` on an unref'ed timer the wait owns; ends early (resolves) when `signal` aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    timer.unref()
    signal.addEventListener('abort', done, { once: true })
  })
}
