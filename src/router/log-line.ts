/** Reading i2pd's own log lines, so they reach PRouter's logger with their level and without colour codes. */
const ANSI = new RegExp(String.raw`\x1b\[[0-9;]*m`, 'g')

/** i2pd's stdout lines look like `06:52:35@127/error - SAM: Accept error` (level coloured on a tty). */
export function parseLogLine(line: string): { level: string; message: string } {
  const plain = line.replace(ANSI, '')
  const m = /^\S+@\d+\/(\w+) - (.*)$/.exec(plain)
  return m ? { level: m[1] ?? 'info', message: m[2] ?? '' } : { level: 'info', message: plain }
}
