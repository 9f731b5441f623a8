/** Reading i2pd's own log lines, so they reach PRouter's logger with their level and without colour codes. */
const ANSI = new RegExp(String.raw`\x1b\[[0-9;]*m`, 'g')

/**
 * Lines i2pd logs as errors that are expected in PRouter's normal operation; they are demoted to info
 * (the supervisor passes i2pd's errors on at info, everything else at debug: i2pd calls many passing
 * conditions of a small or young network errors, e.g. "Can't create inbound tunnel, no peers available").
 * - I2PControl `Token`: the protocol asks every call to carry the token, and i2pd 2.56 then complains it
 *   does not know a "Token" RouterInfo key.
 * - SAM read end-of-file: a readiness probe (HELLO, then close) or a closed stream.
 * - accept canceled: the router is shutting down its listeners.
 */
const EXPECTED_ERRORS = [
  /^I2PControl: RouterInfo unknown request Token$/,
  /^SAM: Read error: End of file$/,
  /Accept error: Operation canceled$/,
]

/** i2pd's stdout lines look like `06:52:35@127/error - SAM: Accept error` (level coloured on a tty). */
export function parseLogLine(line: string): { level: string; message: string } {
  const plain = line.replace(ANSI, '')
  const m = /^\S+@\d+\/(\w+) - (.*)$/.exec(plain)
  if (!m) return { level: 'info', message: plain }
  const message = m[2] ?? ''
  const level = m[1] === 'error' && EXPECTED_ERRORS.some((re) => re.test(message)) ? 'info' : (m[1] ?? 'info')
  return { level, message }
}

/**
 * i2pd lines that say one of its listeners did not open. On Linux i2pd logs these as critical and runs on
 * without that listener (its `ThrowFatal` does nothing there): without I2PControl it never becomes ready,
 * without SAM no session ever comes up, without NTCP2 nobody can connect in. During start-up each of them
 * is a failed start.
 */
const LISTENER_FAILURES = [
  /^Daemon: Failed to start (I2PControl|Webconsole)\b/,
  /^Clients: Exception in SAM bridge\b/,
  /^NTCP2: Failed to bind to v[46] port\b/,
  /^SSU2: Failed to open socket\b/,
]

/** Whether a parsed line says a listener of i2pd failed to open (see LISTENER_FAILURES). */
export function isListenerFailure(line: { level: string; message: string }): boolean {
  return line.level === 'critical' && LISTENER_FAILURES.some((re) => re.test(line.message))
}
