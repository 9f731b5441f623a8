import type { Logger } from '../../src/logger.js'

export interface CapturedLog {
  level: string
  bindings: Record<string, unknown>
  obj: object | string
  msg: string | undefined
}

/** A Logger that records every call, to assert on what was (and was not) logged. */
export function captureLogger(
  records: CapturedLog[] = [],
  bindings: Record<string, unknown> = {},
): Logger & { records: CapturedLog[] } {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      records.push({ level, bindings, obj, msg })
    }
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => captureLogger(records, { ...bindings, ...more }),
  }
}

/** Everything logged, as one string (errors with their message, code and detail). */
export function serializeLogs(records: readonly CapturedLog[]): string {
  return JSON.stringify(records, (_key, value: unknown) =>
    value instanceof Error
      ? { message: value.message, cause: value.cause, ...Object.fromEntries(Object.entries(value)) }
      : value,
  )
}
