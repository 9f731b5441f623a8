/**
 * Supervising one i2pd process: config to its data folder, a stale i2pd of that folder stopped, its ports
 * checked free (listeners.ts), spawn (dies with this process, umask 077: see command.ts), readiness
 * (I2PControl answers and every injected probe passes, e.g. a SAM HELLO) within a deadline, output to a child
 * logger, stop (SIGTERM, then SIGKILL after a bound), graceful stop (SIGINT, bounded), and — after an
 * unexpected exit — restarts with capped backoff, forever, until the owner calls stop(). Every state change
 * goes through `transition()` (see state.ts).
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { closeSync, openSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'
import { PRouterError } from '../errors.js'
import {
  DEFAULT_RESTART_BACKOFF_MAX,
  DEFAULT_RESTART_BACKOFF_MIN,
  DEFAULT_ROUTER_GRACEFUL_STOP_TIMEOUT,
  DEFAULT_ROUTER_READY_TIMEOUT,
  DEFAULT_ROUTER_STOP_TIMEOUT,
  READINESS_POLL_INTERVAL,
  ROUTER_BACKOFF_RESET_AFTER,
  ROUTER_START_ERROR_LINES,
} from '../constants.js'
import type { Logger } from '../logger.js'
import type { I2pdBinary } from './i2pd-binary.js'
import type { HostPort, RouterConfig } from './config.js'
import { validateRouterConfig } from './config.js'
import { certPath, prepareDataDir } from './data-dir.js'
import type { I2pControlClient, RouterStats } from './i2pcontrol.js'
import { createI2pControlClient } from './i2pcontrol.js'
import { deadlineSignal, isTimeoutReason, linkSignals, sleep } from '../signals.js'
import { backoffDelay } from '../backoff.js'
import { isListenerFailure, parseLogLine } from './log-line.js'
import { dataDirArg, i2pdCommand } from './command.js'
import { isRouterPid, readPidFile, stopPid } from './pid.js'
import { assertListenersFree } from './listeners.js'
import { assertTransition, type RouterState } from './state.js'

export type { RouterState } from './state.js'

/** A readiness check beyond I2PControl (e.g. SAM HELLO); resolves when ready, rejects when not yet. */
export type ReadinessProbe = (signal: AbortSignal) => Promise<void>

export interface RouterInit {
  name?: string
  binary: I2pdBinary
  config: RouterConfig
  readyTimeout?: number
  stopTimeout?: number
  gracefulStopTimeout?: number
  /** Restart after an unexpected exit (default true; never for a detached router). */
  restart?: boolean
  /**
   * Let the router outlive this process (CLI `testnet up`): its own process group, no PDEATHSIG, output
   * appended to `<dataDir>/i2pd.log`, no restart. Stop it later by pid (see pid.ts).
   */
  detached?: boolean
  restartBackoff?: { min: number; max: number }
  /** Run i2pd inside this network namespace (`ip netns exec`, root; the pid stays i2pd's). */
  netns?: string
  /** Where this process reaches I2PControl when not at the configured bind address (a forward into `netns`). */
  i2pcontrolAddress?: HostPort
}

export interface RouterComponents {
  logger: Logger
  probes?: readonly ReadinessProbe[]
}

export interface RouterEvents {
  state: [{ from: RouterState; to: RouterState; why: string }]
  ready: [{ pid: number; ms: number }]
  exit: [{ pid: number; code: number | null; signal: NodeJS.Signals | null; expected: boolean }]
  restart: [{ attempt: number; delayMs: number }]
  /** A restart attempt failed; the next is scheduled. (Not 'error': that event throws when unheard.) */
  restartFailed: [PRouterError]
  /** A stale i2pd of this data folder (named by its pid file) was stopped before the start. */
  stale: [{ pid: number }]
}

export interface Router extends EventEmitter<RouterEvents> {
  readonly name: string
  readonly config: RouterConfig
  readonly binary: I2pdBinary
  readonly state: RouterState
  readonly pid: number | undefined
  /**
   * Start and wait until ready; rejects with ERR_ROUTER_START_TIMEOUT or ERR_ROUTER_EXITED (the router is
   * then stopped). While a restart is pending, makes the next attempt now (its failure schedules another).
   */
  start(options?: { signal?: AbortSignal }): Promise<void>
  /** Cancel any pending restart; SIGTERM, then SIGKILL after the stop timeout. Idempotent. */
  stop(): Promise<void>
  /** SIGINT (i2pd waits for transit tunnels to end), bounded; then stop(). */
  stopGracefully(): Promise<void>
  /** I2PControl, available once started. */
  control(): I2pControlClient
  stats(options?: { signal?: AbortSignal }): Promise<RouterStats>
}

export function createRouter(init: RouterInit, components: RouterComponents): Router {
  return new SupervisedRouter(init, components)
}

/** Who asked for a start: the owner (a failure is theirs) or the supervisor (a failure schedules the next). */
type Origin = 'owner' | 'restart'

/** One spawned i2pd. */
interface Run {
  child: ChildProcess
  exited: Promise<void>
  done: boolean
  /** We signalled it: its exit is expected. */
  killed: boolean
  /** Its last error/critical lines (the cause of a failed start, e.g. "Could not lock pid file"). */
  errorLines: string[]
  spawnError?: Error
  /** Rejects when i2pd says a listener of its did not open (log-line.ts); start-up races it. */
  listenerFailed: Promise<never>
  failListener(err: PRouterError): void
}

class SupervisedRouter extends EventEmitter<RouterEvents> implements Router {
  readonly name: string
  readonly config: RouterConfig
  readonly binary: I2pdBinary
  state: RouterState = 'idle'
  private run: Run | undefined
  private client: I2pControlClient | undefined
  private attempt: Promise<void> | undefined
  private attemptAbort: AbortController | undefined
  private stopping: Promise<void> | undefined
  private restartAttempt = 0
  private restartTimer: NodeJS.Timeout | undefined
  private readyAt = 0
  private readonly log: Logger
  private readonly init: RouterInit
  private readonly probes: readonly ReadinessProbe[]

  constructor(init: RouterInit, components: RouterComponents) {
    super()
    this.init = init
    this.name = init.name ?? 'router'
    this.config = validateRouterConfig(init.config)
    this.binary = init.binary
    this.probes = components.probes ?? []
    this.log = components.logger.child({ component: 'router', router: this.name })
  }

  get pid(): number | undefined {
    return this.run?.child.pid
  }

  /** The one place the state changes. */
  private transition(to: RouterState, why: string): void {
    const from = this.state
    assertTransition(this.name, from, to)
    this.state = to
    this.log.debug({ from, to, why }, 'router state')
    this.emit('state', { from, to, why })
  }

  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.state === 'ready') return
    if (this.state === 'starting') return this.attempt
    if (this.state === 'stopping') await this.stopping
    if (this.state === 'restarting') {
      clearTimeout(this.restartTimer)
      return this.startAttempt('restart', options.signal)
    }
    return this.startAttempt('owner', options.signal)
  }

  stop(): Promise<void> {
    clearTimeout(this.restartTimer)
    if (this.state === 'stopped') return Promise.resolve()
    if (this.state === 'stopping') return this.stopping ?? Promise.resolve()
    if (this.state === 'idle') {
      this.transition('stopped', 'stop before start')
      return Promise.resolve()
    }
    this.transition('stopping', 'stop')
    this.attemptAbort?.abort(
      new PRouterError('ERR_ROUTER_NOT_RUNNING', `router ${this.name} stopped during start-up`),
    )
    this.stopping = this.endRun('SIGTERM', this.init.stopTimeout ?? DEFAULT_ROUTER_STOP_TIMEOUT).then(() => {
      this.transition('stopped', 'exited')
    })
    return this.stopping
  }

  async stopGracefully(): Promise<void> {
    const run = this.run
    if (this.state !== 'ready' || run === undefined || run.done) return this.stop()
    this.transition('stopping', 'graceful stop')
    const bound = this.init.gracefulStopTimeout ?? DEFAULT_ROUTER_GRACEFUL_STOP_TIMEOUT
    this.stopping = (async () => {
      if (!(await this.signalAndWait(run, 'SIGINT', bound, false)))
        await this.endRun('SIGTERM', this.stopTimeout())
      this.transition('stopped', 'exited')
    })()
    return this.stopping
  }

  control(): I2pControlClient {
    if (this.client === undefined) {
      throw new PRouterError('ERR_ROUTER_NOT_RUNNING', `router ${this.name} has not started`)
    }
    return this.client
  }

  stats(options: { signal?: AbortSignal } = {}): Promise<RouterStats> {
    return this.control().routerInfo(options)
  }

  private stopTimeout(): number {
    return this.init.stopTimeout ?? DEFAULT_ROUTER_STOP_TIMEOUT
  }

  private startAttempt(origin: Origin, signal?: AbortSignal): Promise<void> {
    this.transition('starting', origin === 'owner' ? 'start' : 'restart')
    const abort = new AbortController()
    this.attemptAbort = abort
    const linked = linkSignals(abort.signal, signal)
    const started = Date.now()
    this.attempt = this.spawnAndWait(linked.signal)
      .finally(() => {
        linked.dispose()
      })
      .then(
        () => {
          this.onStarted(origin, started)
        },
        (err: unknown) => this.onStartFailed(origin, err),
      )
    return this.attempt
  }

  private async spawnAndWait(signal: AbortSignal): Promise<void> {
    await prepareDataDir(this.config)
    await this.stopStale()
    await assertListenersFree(this.config)
    signal.throwIfAborted()
    const run = this.spawnRun()
    await this.waitReady(run, signal)
  }

  private onStarted(origin: Origin, started: number): void {
    const pid = this.pid ?? 0
    if (this.state !== 'starting') {
      // stop() came first; the owner learns the start did not hold
      if (origin === 'owner')
        throw new PRouterError('ERR_ROUTER_NOT_RUNNING', `router ${this.name} stopped during start-up`)
      return
    }
    this.transition('ready', 'probes passed')
    this.readyAt = Date.now()
    if (this.init.detached === true) this.run?.child.unref()
    this.emit('ready', { pid, ms: this.readyAt - started })
  }

  private async onStartFailed(origin: Origin, err: unknown): Promise<void> {
    if (this.state === 'starting') await this.endRun('SIGTERM', this.stopTimeout())
    if (this.state !== 'starting') {
      if (origin === 'owner') throw err // stop() came first
      return
    }
    if (origin === 'owner') {
      this.transition('stopped', 'start failed')
      throw err
    }
    const error =
      err instanceof PRouterError ? err : new PRouterError('ERR_ROUTER_EXITED', String(err), { cause: err })
    this.emit('restartFailed', error)
    this.scheduleRestart('restart failed')
  }

  private scheduleRestart(why: string): void {
    const { min, max } = this.init.restartBackoff ?? {
      min: DEFAULT_RESTART_BACKOFF_MIN,
      max: DEFAULT_RESTART_BACKOFF_MAX,
    }
    const attempt = this.restartAttempt++
    const delayMs = backoffDelay(attempt, min, max)
    this.transition('restarting', why)
    this.emit('restart', { attempt, delayMs })
    this.restartTimer = setTimeout(() => {
      this.startAttempt('restart').catch((err: unknown) => {
        this.log.error({ err }, 'router supervisor failed') // a bug (ERR_ROUTER_STATE), never a failed start
      })
    }, delayMs) // not unref()ed: a pending restart is the supervisor's work, and stop() clears it
  }

  /** A stale i2pd of this data folder (its pid file names a live process with our --datadir) is stopped. */
  private async stopStale(): Promise<void> {
    const pid = await readPidFile(this.config.dataDir)
    const marker = (args: readonly string[]): boolean => args.includes(dataDirArg(this.config.dataDir))
    if (pid === undefined || pid === this.pid || !(await isRouterPid(pid, marker))) return
    this.log.warn({ pid, dataDir: this.config.dataDir }, 'a stale i2pd holds this data folder: stopping it')
    await stopPid(pid, marker, this.stopTimeout())
    this.emit('stale', { pid })
  }

  private spawnRun(): Run {
    const detached = this.init.detached === true
    const { command, args } = i2pdCommand({
      binary: this.binary,
      dataDir: this.config.dataDir,
      dieWithParent: !detached,
      ...(this.init.netns === undefined ? {} : { netns: this.init.netns }),
    })
    const stdio = detached ? openLog(this.config.dataDir) : 'pipe'
    const child = spawn(command, args, { stdio: ['ignore', stdio, stdio], detached })
    if (typeof stdio === 'number') closeSync(stdio)
    const run: Run = {
      child,
      exited: Promise.resolve(),
      done: false,
      killed: false,
      errorLines: [],
      ...failureSignal(),
    }
    run.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(run, code, signal)
      })
      child.once('close', () => {
        resolve() // after 'exit' and the end of its output: its last error lines are read
      })
      child.once('error', (cause) => {
        run.spawnError = cause
        this.log.error({ err: cause, command }, 'cannot spawn i2pd')
        if (child.pid === undefined) {
          run.done = true
          resolve()
        }
      })
    })
    this.run = run
    this.client = undefined
    if (!detached) this.pipeOutput(run)
    this.log.info({ pid: child.pid, version: this.binary.version }, 'i2pd spawned')
    return run
  }

  private pipeOutput(run: Run): void {
    // i2pd logs to stdout (`log = stdout`); what reaches stderr are its fatal start-up errors, unformatted
    // (e.g. "i2pd: Could not lock pid file …"): errors too
    for (const stream of [run.child.stdout, run.child.stderr]) {
      if (stream === null) continue
      const stderr = stream === run.child.stderr
      createInterface({ input: stream }).on('line', (line) => {
        const parsed = parseLogLine(line)
        const { level, message } = parsed
        if (this.state === 'starting' && isListenerFailure(parsed))
          run.failListener(listenerError(run, message))
        const loud = level === 'error' || level === 'critical' || stderr
        if (loud) run.errorLines = [...run.errorLines, message].slice(-ROUTER_START_ERROR_LINES)
        const quiet = this.state === 'stopping' || this.state === 'stopped' || run.killed
        if (loud && !quiet) this.log.info({ pid: run.child.pid, level }, message)
        else this.log.debug({ pid: run.child.pid, level }, message)
      })
    }
  }

  private onExit(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    run.done = true
    const current = run === this.run
    const expected = run.killed || !current || this.state === 'stopping' || this.state === 'stopped'
    this.emit('exit', { pid: run.child.pid ?? 0, code, signal, expected })
    if (expected) return
    this.log.warn({ pid: run.child.pid, code, signal, state: this.state }, 'i2pd exited unexpectedly')
    if (this.state !== 'ready') return // while starting, the start attempt reports it
    if (this.init.restart === false || this.init.detached === true) {
      this.transition('stopped', 'exited, restarts off')
      return
    }
    if (Date.now() - this.readyAt >= ROUTER_BACKOFF_RESET_AFTER) this.restartAttempt = 0
    this.scheduleRestart('unexpected exit')
  }

  private async waitReady(run: Run, signal: AbortSignal): Promise<void> {
    const timeout = this.init.readyTimeout ?? DEFAULT_ROUTER_READY_TIMEOUT
    const deadline = deadlineSignal(timeout, signal)
    const exited = run.exited.then(() => {
      throw exitedError(run)
    })
    try {
      await Promise.race([exited, run.listenerFailed, this.pollReady(run, deadline.signal, timeout)])
    } finally {
      deadline.dispose()
    }
  }

  private async pollReady(run: Run, deadline: AbortSignal, timeout: number): Promise<void> {
    let lastError: unknown
    while (!deadline.aborted && !run.done) {
      try {
        await this.probeOnce(deadline)
        return
      } catch (err) {
        lastError = err
        // the certificate may have been read while i2pd was still writing it (seen with 24 routers starting
        // at once on 2 cores: a pinned empty cert fails every later probe): read it again next time
        this.client = undefined
      }
      await sleep(READINESS_POLL_INTERVAL, deadline).catch(() => undefined)
    }
    if (run.done) {
      await run.exited // its last lines
      throw exitedError(run)
    }
    if (!isTimeoutReason(deadline.reason)) throw deadline.reason as Error
    throw new PRouterError(
      'ERR_ROUTER_START_TIMEOUT',
      `i2pd (pid ${run.child.pid}) not ready after ${timeout} ms`,
      {
        cause: lastError,
      },
    )
  }

  private async probeOnce(signal: AbortSignal): Promise<void> {
    if (this.client === undefined) {
      const certPem = await readFile(certPath(this.config.dataDir), 'utf8') // written by i2pd at start
      const { password } = this.config.i2pcontrol
      const { host, port } = this.init.i2pcontrolAddress ?? this.config.i2pcontrol
      this.client = createI2pControlClient({ host, port, password, certPem })
    }
    await this.client.routerInfo({ signal })
    for (const probe of this.probes) await probe(signal)
  }

  /** Ends the current run, if alive: `sig`, then SIGKILL after `bound`; resolves once it has exited. */
  private async endRun(sig: NodeJS.Signals, bound: number): Promise<void> {
    const run = this.run
    if (run === undefined) return
    if (!run.done) await this.signalAndWait(run, sig, bound)
    await run.exited
  }

  /** Send `sig` and wait up to `bound` ms; then SIGKILL when `kill`. Returns whether it exited. */
  private async signalAndWait(run: Run, sig: NodeJS.Signals, bound: number, kill = true): Promise<boolean> {
    run.killed = true
    run.child.kill(sig)
    const timer = delay(bound, 'timeout' as const, { ref: false })
    if ((await Promise.race([run.exited, timer])) !== 'timeout') return true
    if (!kill) return false
    this.log.warn({ pid: run.child.pid, signal: sig, ms: bound }, 'i2pd did not exit: SIGKILL')
    run.child.kill('SIGKILL')
    await run.exited
    return true
  }
}

/** A promise that rejects once `failListener` is called (with nothing waiting on it yet, no unhandled rejection). */
function failureSignal(): Pick<Run, 'listenerFailed' | 'failListener'> {
  let fail: (err: PRouterError) => void = () => undefined
  const listenerFailed = new Promise<never>((_, reject) => {
    fail = reject
  })
  listenerFailed.catch(() => undefined)
  return { listenerFailed, failListener: fail }
}

/** ERR_ROUTER_PORT_IN_USE (or ERR_ROUTER_LISTEN for another reason) with i2pd's own line. */
function listenerError(run: Run, line: string): PRouterError {
  const code = /Address already in use/i.test(line) ? 'ERR_ROUTER_PORT_IN_USE' : 'ERR_ROUTER_LISTEN'
  return new PRouterError(code, `i2pd (pid ${run.child.pid}) could not open a listener: ${line}`)
}

/** ERR_ROUTER_EXITED for a run that ended during start-up, with i2pd's last error lines as its cause. */
function exitedError(run: Run): PRouterError {
  const { child, errorLines, spawnError } = run
  const how = child.signalCode !== null ? `signal ${child.signalCode}` : `code ${String(child.exitCode)}`
  const lines = spawnError === undefined ? errorLines : [...errorLines, spawnError.message]
  const why = lines.length === 0 ? '' : `: ${lines.join(' | ')}`
  return new PRouterError(
    'ERR_ROUTER_EXITED',
    `i2pd (pid ${child.pid}) exited during start-up (${how})${why}`,
    {
      detail: { code: child.exitCode, signal: child.signalCode, lines },
      ...(spawnError === undefined ? {} : { cause: spawnError }),
    },
  )
}

function openLog(dataDir: string): number {
  return openSync(join(dataDir, 'i2pd.log'), 'a', 0o600)
}
