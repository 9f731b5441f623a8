import type { Logger } from '../logger.js'

/** A logger that drops everything: the default where a SAM helper is called without one. */
export function noopLogger(): Logger {
  const drop = (): void => undefined
  const logger: Logger = { debug: drop, info: drop, warn: drop, error: drop, child: () => logger }
  return logger
}
