import { pino } from 'pino'

/** The logger every component receives; pino's shape, narrowed to what PRouter calls. */
export interface Logger {
  debug(obj: object | string, msg?: string): void
  info(obj: object | string, msg?: string): void
  warn(obj: object | string, msg?: string): void
  error(obj: object | string, msg?: string): void
  /**
   * A logger whose lines also carry `bindings`. Each key appears once per line: a child's `component` is
   * appended to its parent's as a path (`daemon/api`), any other key bound again replaces the parent's value.
   * (pino's own children repeat a key bound twice, `"component":"daemon","component":"api"`, and a JSON parser
   * keeps only one of them.)
   */
  child(bindings: Record<string, unknown>): Logger
}

export interface LoggerInit {
  level?: string
  /** Write to this file descriptor (default 2: logs never mix with command output on stdout). */
  fd?: number
}

type Bindings = Readonly<Record<string, unknown>>

export function createLogger(init: LoggerInit = {}): Logger {
  const root = pino({ level: init.level ?? 'info' }, pino.destination({ fd: init.fd ?? 2, sync: true }))
  return bound(root, {})
}

export function silentLogger(): Logger {
  return bound(pino({ level: 'silent' }), {})
}

/** `root` with `bindings`, made from the root each time so that no key is written twice. */
function bound(root: pino.Logger, bindings: Bindings): Logger {
  const log = Object.keys(bindings).length === 0 ? root : root.child(bindings)
  return {
    debug: (obj, msg) => {
      write(log.debug.bind(log), obj, msg)
    },
    info: (obj, msg) => {
      write(log.info.bind(log), obj, msg)
    },
    warn: (obj, msg) => {
      write(log.warn.bind(log), obj, msg)
    },
    error: (obj, msg) => {
      write(log.error.bind(log), obj, msg)
    },
    child: (more) => bound(root, mergeBindings(bindings, more)),
  }
}

function write(fn: pino.LogFn, obj: object | string, msg: string | undefined): void {
  if (typeof obj === 'string') fn(msg === undefined ? obj : `${obj} ${msg}`)
  else if (msg === undefined) fn(obj)
  else fn(obj, msg)
}

/** The bindings of a child: `component` as a path (`daemon/api`), any other key the child's value. */
export function mergeBindings(parent: Bindings, child: Bindings): Bindings {
  const merged: Record<string, unknown> = { ...parent, ...child }
  const [outer, inner] = [parent.component, child.component]
  if (typeof outer === 'string' && typeof inner === 'string') merged.component = `${outer}/${inner}`
  return merged
}
