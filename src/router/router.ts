/**
 * Supervising one i2pd process: config to its data folder, spawn, readiness (I2PControl answers and every
 * injected probe passes, e.g. a SAM HELLO) within a deadline, output to a child logger, stop (SIGTERM, then
 * SIGKILL after a bound), graceful stop (SIGINT, bounded), and restart with capped backoff after an
 * unexpected exit.
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
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
  MINUTE,
  READINESS_POLL_INTERVAL,
} from '../constants.js'
import type { Logger } from '../logger.js'
import type { I2pdBinary } from './binary.js'
import type { HostPort, RouterConfig } from './config.js'
import { validateRouterConfig } from './config.js'
import { certPath, confPath, prepareDataDir } from './data-dir.js'
import type { I2pControlClient, RouterStats } from './i2pcontrol.js'
import { createI2pControlClient } from './i2pcontrol.js'
import { deadlineSignal, isTimeoutReason, sleep } from '../signals.js'
import { backoffDelay } from '../backoff.js'
import { parseLogLine } from './log-line.js'

export type RouterState = 'idle' | 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped'

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
   * Let the router outlive this process (CLI `testnet up`): its own process group, output appended to
   * `<dataDir>/i2pd.log`, no restart. Stop it later by pid (see pid.ts).
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
  ready: [{ pid: number; ms: number }]
  exit: [{ pid: number; code: number | null; signal: NodeJS.Signals | null; expected: boolean }]
  restart: [{ attempt: number; delayMs: number }]
  /** A restart attempt failed; another is scheduled. (Not 'error': that event throws when unheard.) */
  restartFailed: [PRouterError]
}

export interface Router extends EventEmitter<RouterEvents> {
  readonly name: string
  readonly config: RouterConfig
  readonly binary: I2pdBinary
  readonly state: RouterState
  readonly pid: number | undefined
  /** Start and wait until ready; rejects with ERR_ROUTER_START_TIMEOUT or ERR_ROUTER_EXITED. */
  start(options?: { signal?: AbortSignal }): Promise<void>
  /** SIGTERM, then SIGKILL after the stop timeout. Idempotent. */
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

class SupervisedRouter extends EventEmitter<RouterEvents> implements Router {
  readonly name: string
  readonly config: RouterConfig
  readonly binary: I2pdBinary
  state: RouterState = 'idle'
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private client: I2pControlClient | undefined
  private restartAttempt = 0
  private restartTimer: NodeJS.Timeout | undefined
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
    return this.child?.pid
  }

  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    if (this.state === 'ready' || this.state === 'starting') return
    this.state = 'starting'
    await prepareDataDir(this.config)
    const started = Date.now()
    const child = this.spawnChild()
    try {
      await this.waitReady(child, options.signal)
    } catch (err) {
      await this.stop()
      throw err
    }
    this.state = 'ready'
    if (this.init.detached === true) child.unref()
    this.emit('ready', { pid: child.pid ?? 0, ms: Date.now() - started })
  }

  async stop(): Promise<void> {
    clearTimeout(this.restartTimer)
    const child = this.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      this.state = 'stopped'
      return
    }
    this.state = 'stopping'
    await this.signalAndWait(child, 'SIGTERM', this.init.stopTimeout ?? DEFAULT_ROUTER_STOP_TIMEOUT)
    this.state = 'stopped'
  }

  async stopGracefully(): Promise<void> {
    clearTimeout(this.restartTimer)
    const child = this.child
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      this.state = 'stopping'
      const bound = this.init.gracefulStopTimeout ?? DEFAULT_ROUTER_GRACEFUL_STOP_TIMEOUT
      if (await this.signalAndWait(child, 'SIGINT', bound, false)) {
        this.state = 'stopped'
        return
      }
    }
    await this.stop()
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

  private spawnChild(): ChildProcess {
    const inNetns = this.init.netns === undefined ? [] : ['netns', 'exec', this.init.netns]
    const command = inNetns.length > 0 ? 'ip' : this.binary.command
    const args =
      inNetns.length > 0 ? [...inNetns, this.binary.command, ...this.binary.args] : this.binary.args
    const argv = [...args, `--conf=${confPath(this.config.dataDir)}`, `--datadir=${this.config.dataDir}`]
    const detached = this.init.detached === true
    const stdio = detached ? openLog(this.config.dataDir) : 'pipe'
    const child = spawn(command, argv, { stdio: ['ignore', stdio, stdio], detached })
    if (typeof stdio === 'number') closeSync(stdio)
    this.child = child
    this.client = undefined
    this.exited = once(child, 'exit').then(() => undefined)
    if (!detached) this.pipeOutput(child)
    child.on('exit', (code, signal) => {
      this.onExit(child, code, signal)
    })
    child.on('error', (cause) => {
      this.log.error({ err: cause }, 'cannot spawn i2pd')
    })
    this.log.info({ pid: child.pid, version: this.binary.version }, 'i2pd spawned')
    return child
  }

  private pipeOutput(child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue
      createInterface({ input: stream }).on('line', (line) => {
        const { level, message } = parseLogLine(line)
        const loud =
          (level === 'error' || level === 'critical') && this.state !== 'stopping' && this.state !== 'stopped'
        if (loud) this.log.info({ pid: child.pid, level }, message)
        else this.log.debug({ pid: child.pid, level }, message)
      })
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const expected = this.state === 'stopping' || this.state === 'stopped'
    this.emit('exit', { pid: child.pid ?? 0, code, signal, expected })
    if (expected || child !== this.child) return
    this.log.warn({ pid: child.pid, code, signal }, 'i2pd exited unexpectedly')
    if (this.state === 'starting' || this.init.restart === false || this.init.detached === true) {
      this.state = 'stopped'
      return
    }
    this.scheduleRestart()
  }

  private scheduleRestart(): void {
    const { min, max } = this.init.restartBackoff ?? {
      min: DEFAULT_RESTART_BACKOFF_MIN,
      max: DEFAULT_RESTART_BACKOFF_MAX,
    }
    const attempt = this.restartAttempt++
    const delayMs = backoffDelay(attempt, min, max)
    this.state = 'restarting'
    this.emit('restart', { attempt, delayMs })
    this.restartTimer = setTimeout(() => {
      this.state = 'idle'
      this.start().then(
        () => {
          this.resetBackoffLater()
        },
        (err: unknown) => {
          this.emit('restartFailed', err as PRouterError)
          if (this.state !== 'stopping' && this.state !== 'stopped') this.scheduleRestart()
        },
      )
    }, delayMs) // not unref()ed: a pending restart is the supervisor's work, and stop() clears it
  }

  /** A router that stays up for a minute after a restart earns its backoff back. */
  private resetBackoffLater(): void {
    const child = this.child
    setTimeout(() => {
      if (this.child === child && this.state === 'ready') this.restartAttempt = 0
    }, MINUTE).unref()
  }

  private async waitReady(child: ChildProcess, signal?: AbortSignal): Promise<void> {
    const timeout = this.init.readyTimeout ?? DEFAULT_ROUTER_READY_TIMEOUT
    const deadline = deadlineSignal(timeout, signal)
    const exited = this.exited.then(() => {
      throw new PRouterError('ERR_ROUTER_EXITED', `i2pd (pid ${child.pid}) exited during start-up`, {
        detail: { code: child.exitCode, signal: child.signalCode },
      })
    })
    try {
      await Promise.race([exited, this.pollReady(deadline.signal, timeout)])
    } finally {
      deadline.dispose()
    }
  }

  private async pollReady(deadline: AbortSignal, timeout: number): Promise<void> {
    let lastError: unknown
    while (!deadline.aborted && this.child?.exitCode === null) {
      try {
        await this.probeOnce(deadline)
        return
      } catch (err) {
        lastError = err
      }
      await sleep(READINESS_POLL_INTERVAL, deadline).catch(() => undefined)
    }
    if (this.child?.exitCode !== null) return // the exit branch of the race reports it
    if (!isTimeoutReason(deadline.reason)) throw deadline.reason as Error
    throw new PRouterError(
      'ERR_ROUTER_START_TIMEOUT',
      `i2pd (pid ${this.pid}) not ready after ${timeout} ms`,
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

  /** Send `sig` and wait up to `bound` ms; then SIGKILL when `kill`. Returns whether it exited. */
  private async signalAndWait(child: ChildProcess, sig: NodeJS.Signals, bound: number, kill = true) {
    child.kill(sig)
    const timer = delay(bound, 'timeout' as const, { ref: false })
    if ((await Promise.race([this.exited, timer])) !== 'timeout') return true
    if (!kill) return false
    this.log.warn({ pid: child.pid, signal: sig, ms: bound }, 'i2pd did not exit: SIGKILL')
    child.kill('SIGKILL')
    await this.exited
    return true
  }
}

function openLog(dataDir: string): number {
  return openSync(join(dataDir, 'i2pd.log'), 'a', 0o600)
}
