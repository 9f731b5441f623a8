/**
 * A worker's daemon as its own `prouter run` process, as operators run it: inside its host's namespace for a
 * managed worker behind NAT (its i2pd starts there with it; its local API gets a loopback forward here), else
 * beside the caller. Writes its options to `<dataDir>/run.json` and waits for the ready line. Stopped by its
 * pid (SIGTERM, then SIGKILL after a bound).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { PRouterError } from '../errors.js'
import { writeFileAtomic } from '../files.js'
import type { WorkerNet, WorkerNode } from './workers.js'

export interface WorkerProcess {
  readonly pid: number
  /** The daemon's API, forwarded to a loopback port here. */
  readonly apiUrl: string
  readonly token: string
  readonly workerKey: string
  /** Milliseconds from spawn to the ready line. */
  readonly readyMs: number
  stop(): Promise<void>
}

type Child = ChildProcessByStdio<null, Readable, null>

/** The built CLI (from src/ under tsx as well: the daemon runs as it is shipped). */
const CLI = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../dist/cli/main.js' : '../cli/main.js', import.meta.url),
)
const STOP_BOUND_MS = 20_000

export async function runWorkerProcess(
  net: WorkerNet,
  node: WorkerNode,
  options: { timeoutMs?: number; cli?: string } = {},
): Promise<WorkerProcess> {
  const dataDir = String(node.input.dataDir)
  const file = join(dataDir, 'run.json')
  await writeFileAtomic(file, JSON.stringify(node.input), 0o600)
  const started = Date.now()
  const argv = [process.execPath, options.cli ?? CLI, 'run', '--config', file, '--json']
  const [command, ...args] =
    node.host === undefined ? argv : ['ip', 'netns', 'exec', node.host.netns, ...argv]
  const child: Child = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const stop = () => stopChild(child)
  try {
    const ready = await readyLine(child, options.timeoutMs ?? 180_000)
    child.stdout.resume() // whatever it prints later must not fill the pipe
    const apiUrl = await reachableApi(net, node, new URL(String(ready.api)))
    const token = (await readFile(join(dataDir, 'api.token'), 'utf8')).trim()
    const base = { pid: child.pid ?? 0, token, workerKey: String(ready.workerKey), stop }
    return { ...base, apiUrl, readyMs: Date.now() - started }
  } catch (err) {
    await stop()
    throw err
  }
}

/** The API as this process reaches it: as announced, or through a forward into the worker's namespace. */
async function reachableApi(net: WorkerNet, node: WorkerNode, api: URL): Promise<string> {
  if (node.host === undefined) return api.origin
  const nat = net.testnet.nat
  if (nat === undefined) throw new Error(`${node.name} has a host but the testnet no NAT`)
  const forward = await nat.forward(node.host.name, { host: api.hostname, port: Number(api.port) })
  return `http://${forward.host}:${forward.port}`
}

async function readyLine(child: Child, timeoutMs: number): Promise<Record<string, unknown>> {
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const parsed = JSON.parse(line) as Record<string, unknown>
      if (parsed.ready === true) return parsed
    }
  } finally {
    clearTimeout(timer)
  }
  throw new PRouterError(
    'ERR_TESTNET_WORKER',
    `prouter run exited before it was ready (${String(child.exitCode)})`,
  )
}

async function stopChild(child: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_BOUND_MS)
  await exited
  clearTimeout(timer)
}
