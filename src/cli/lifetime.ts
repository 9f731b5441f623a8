/**
 * How a long-running command (`run`, `demo`, `testnet up`, `registry serve`) ends, whatever signal arrives
 * (docs/config.md, "Stopping"):
 *
 *   1st SIGINT/SIGTERM  aborts `signal`: the command tears down what it started, in order, and exits.
 *   2nd                 is noted on stderr and in the log; teardown goes on (Ctrl-C pressed twice, or
 *                       coreutils `timeout`, which signals the process and then its whole group).
 *   3rd                 forces: best-effort synchronous cleanup, then exit 128 + signal number.
 *   bound               teardown not over `teardownTimeout` ms after it began (default 30 s): the same
 *                       cleanup, then exit 1 (ERR_TEARDOWN_TIMEOUT).
 *
 * The forced cleanup kills (SIGKILL, by pid) every process this one started, found by parent pid in /proc,
 * and the processes in the network namespaces the command named as its own, then deletes those namespaces.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { DEFAULT_CLI_TEARDOWN_TIMEOUT } from '../constants.js'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'

export interface LifetimeInit {
  /** Bound on teardown, from its start (first signal, or `stopping()`), in ms. */
  teardownTimeout?: number
}

export interface Lifetime {
  /** Aborted by the first SIGINT/SIGTERM. */
  readonly signal: AbortSignal
  /** Network namespaces named `<prefix>-…` are this command's: a forced cleanup deletes them. */
  ownNamespaces(prefix: string): void
  /** The command's processes outlive it from now on (a detached testnet): a forced cleanup spares them. */
  disown(): void
  /** Teardown begins without a signal (e.g. `demo --once`): start the bound now. */
  stopping(): void
}

export function createLifetime(components: { logger: Logger }, init: LifetimeInit = {}): Lifetime {
  const log = components.logger.child({ component: 'cli' })
  const bound = init.teardownTimeout ?? DEFAULT_CLI_TEARDOWN_TIMEOUT
  const controller = new AbortController()
  const prefixes: string[] = []
  let signals = 0
  let disowned = false
  let timer: NodeJS.Timeout | undefined

  const force = (why: string, code: number): never => {
    say(`${why}: killing what this command started`)
    log.error({ code }, `forced exit: ${why}`)
    forceCleanup({ children: !disowned, namespacePrefixes: prefixes }, log)
    process.exit(code)
  }
  const stopping = (): void => {
    if (timer !== undefined) return
    timer = setTimeout(() => {
      const err = new PRouterError('ERR_TEARDOWN_TIMEOUT', `teardown did not end within ${bound} ms`)
      force(`${err.code}: ${err.message}`, 1)
    }, bound)
    timer.unref() // a teardown that ends lets the process exit at once
  }
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1
    if (signals === 1) {
      say(`${sig}: stopping… (a third signal forces exit)`)
      log.info({ signal: sig }, 'stopping')
      stopping()
      controller.abort(new Error(`interrupted by ${sig}`))
    } else if (signals === 2) {
      say(`${sig} again: still stopping, teardown goes on (a third signal forces exit)`)
      log.warn({ signal: sig }, 'signal during teardown: teardown goes on')
    } else {
      force(`${sig} a third time`, 128 + constants.signals[sig])
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    ownNamespaces: (prefix) => {
      prefixes.push(prefix)
    },
    disown: () => {
      disowned = true
    },
    stopping,
  }
}

/** Resolves when `signal` aborts (at once if it has). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve()
      },
      { once: true },
    )
  })
}

function say(line: string): void {
  process.stderr.write(`\nprouter: ${line}\n`)
}

/**
 * Best effort, synchronous (it runs right before `process.exit`): SIGKILL this process's descendants and the
 * processes inside the named namespaces, delete those namespaces, wait (at most 2 s) for the killed to go.
 */
export function forceCleanup(
  what: { children: boolean; namespacePrefixes: readonly string[] },
  log: Logger,
): void {
  const pids = what.children ? descendants(process.pid) : []
  const namespaces = what.namespacePrefixes.flatMap((p) => namespacesWith(p))
  for (const ns of namespaces) pids.push(...pidsIn(ns))
  for (const pid of pids) kill(pid)
  for (const ns of namespaces) ipSync(['netns', 'del', ns])
  waitGone(pids, 2000)
  log.warn({ pids, namespaces }, 'forced cleanup done')
}

/** Every live descendant of `root`, from /proc (children before grandchildren). */
export function descendants(root: number): number[] {
  const parentOf = new Map<number, number>()
  for (const name of safe(() => readdirSync('/proc'), [])) {
    if (!/^\d+$/.test(name)) continue
    const stat = readStat(Number(name))
    if (stat !== undefined && stat.state !== 'Z') parentOf.set(Number(name), stat.ppid)
  }
  const found: number[] = []
  let frontier = [root]
  while (frontier.length > 0) {
    const next = [...parentOf].filter(([, ppid]) => frontier.includes(ppid)).map(([pid]) => pid)
    found.push(...next)
    frontier = next
  }
  return found
}

/** State and parent pid from /proc/<pid>/stat (the command name, in parentheses, may hold spaces). */
function readStat(pid: number): { state: string; ppid: number } | undefined {
  const text = safe(() => readFileSync(`/proc/${pid}/stat`, 'utf8'), '')
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const [state, ppid] = [fields[0], Number(fields[1])]
  return state === undefined || !Number.isInteger(ppid) ? undefined : { state, ppid }
}

function namespacesWith(prefix: string): string[] {
  return ipSync(['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}-`))
}

function pidsIn(ns: string): number[] {
  return ipSync(['netns', 'pids', ns])
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number)
}

function ipSync(args: string[]): string {
  return safe(() => execFileSync('ip', args, { encoding: 'utf8', timeout: 5000, stdio: 'pipe' }), '')
}

function kill(pid: number): void {
  safe(() => process.kill(pid, 'SIGKILL'), true)
}

/** Until every pid is gone or a zombie (reaped once this process exits), at most `ms`. */
function waitGone(pids: readonly number[], ms: number): void {
  const until = Date.now() + ms
  const pause = new Int32Array(new SharedArrayBuffer(4))
  while (Date.now() < until && pids.some((pid) => (readStat(pid)?.state ?? 'Z') !== 'Z')) {
    Atomics.wait(pause, 0, 0, 50)
  }
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn()
  } catch {
    return fallback
  }
}
