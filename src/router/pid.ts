/** Stopping a router known only by pid (one started detached by an earlier process). */
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_ROUTER_STOP_TIMEOUT } from '../constants.js'

/** Whether `pid` is alive and its command line contains `marker` (guards against pid reuse). */
export async function isRouterPid(pid: number, marker: string): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.split('\0').some((arg) => arg.includes(marker))
  } catch {
    return false
  }
}

/** SIGTERM, wait up to `timeout`, then SIGKILL; resolves once the process is gone. */
export async function stopPid(
  pid: number,
  marker: string,
  timeout = DEFAULT_ROUTER_STOP_TIMEOUT,
): Promise<void> {
  if (!(await isRouterPid(pid, marker))) return
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (!(await isRouterPid(pid, marker))) return
    await sleep(50)
  }
  process.kill(pid, 'SIGKILL')
  while (await isRouterPid(pid, marker)) await sleep(20)
}
