/**
 * Routers known only by pid: one started detached by an earlier process, or a stale i2pd named by the pid
 * file in a data folder (an orphan of a daemon killed before PDEATHSIG existed, or started by hand).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_ROUTER_STOP_TIMEOUT } from '../constants.js'

/** How a process is recognised: a substring of one argument, or a predicate on the whole argv. */
export type PidMarker = string | ((args: readonly string[]) => boolean)

/**
 * Whether `pid` is alive and its command line matches `marker` (guards against pid reuse). A zombie has an
 * empty command line: it counts as gone.
 */
export async function isRouterPid(pid: number, marker: PidMarker): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false
  let cmdline: string
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return false
  }
  const args = cmdline.split('\0').filter((a) => a.length > 0)
  if (typeof marker === 'function') return args.length > 0 && marker(args)
  return args.some((arg) => arg.includes(marker))
}

/** SIGTERM, wait up to `timeout`, then SIGKILL; resolves once the process is gone. */
export async function stopPid(
  pid: number,
  marker: PidMarker,
  timeout = DEFAULT_ROUTER_STOP_TIMEOUT,
): Promise<void> {
  if (!(await isRouterPid(pid, marker))) return
  signal(pid, 'SIGTERM')
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (!(await isRouterPid(pid, marker))) return
    await sleep(50)
  }
  signal(pid, 'SIGKILL')
  while (await isRouterPid(pid, marker)) await sleep(20)
}

/** The pid i2pd wrote to `<dataDir>/i2pd.pid`, if the file is there and holds one. */
export async function readPidFile(dataDir: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(join(dataDir, 'i2pd.pid'), 'utf8')
  } catch {
    return undefined
  }
  const pid = Number.parseInt(text.trim(), 10)
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // gone between the check and the signal
  }
}
