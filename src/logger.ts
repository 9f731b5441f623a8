import { pino } from 'pino'

/** The logger every component receives; pino's shape, narrowed to what PRouter calls. */
export interface Logger {
  debug(obj: object | string, msg?: string): void
  info(obj: object | string, msg?: string): void
  warn(obj: object | string, msg?: string): void
  error(obj: object | string, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

export interface LoggerInit {
  level?: string
  /** Write to this file descriptor (default 2: logs never mix with command output on stdout). */
  fd?: number
}

export function createLogger(init: LoggerInit = {}): Logger {
  return pino({ level: init.level ?? 'info' }, pino.destination({ fd: init.fd ?? 2, sync: true }))
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
