/**
 * A real EVM node for tests: anvil (Foundry), shipped as a native binary by the `@foundry-rs/anvil` npm
 * package, run offline on a free loopback port. `startAnvil(t)` resolves once the node answers
 * `eth_chainId` and stops it (by PID) when the test ends.
 *
 * The platform binary is spawned directly rather than through `node_modules/.bin/anvil` (a Node wrapper
 * that spawns it in turn), so that the PID is anvil's own: `pause()` (SIGSTOP) then makes a node that
 * accepts connections and never answers, and `stop()` needs no signal forwarding.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFile, readdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { mnemonicToAccount } from 'viem/accounts'
import { bytesToHex } from 'viem'

export interface Anvil {
  rpcUrl: string
  pid: number
  /** Private keys of anvil's funded dev accounts (from its default mnemonic). */
  privateKeys: readonly `0x${string}`[]
  /**
   * SIGSTOP: the node keeps its port but answers nothing (a hung node). Resolves once every thread has
   * stopped (a group stop is not complete when kill() returns; a request sent at once may still be served).
   */
  pause(): Promise<void>
  /** SIGCONT after pause(). */
  resume(): void
  /** SIGTERM, wait for the exit (bounded), then SIGKILL. Idempotent. */
  stop(): Promise<void>
}

export interface AnvilOptions {
  /** Bound on waiting for the first answer (ms). */
  readyTimeout?: number
  /** Extra anvil arguments, e.g. ['--block-time', '1']. */
  args?: readonly string[]
}

/** Anvil's default mnemonic ("test … junk"); its first accounts hold 10 000 ETH each on a fresh node. */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk'
const DEV_ACCOUNTS = 4
const STOP_TIMEOUT = 5_000

let devKeys: readonly `0x${string}`[] | undefined

export async function startAnvil(
  t: { after(fn: () => Promise<void>): void },
  options: AnvilOptions = {},
): Promise<Anvil> {
  const port = await freePort()
  const child = spawn(
    anvilBinary(),
    ['--host', '127.0.0.1', '--port', String(port), '--silent', ...(options.args ?? [])],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  const anvil = handle(child, `http://127.0.0.1:${port}`)
  t.after(() => anvil.stop())
  await waitReady(anvil.rpcUrl, child, options.readyTimeout ?? 10_000)
  return anvil
}

function handle(child: ChildProcess, rpcUrl: string): Anvil {
  const pid = child.pid
  if (pid === undefined) throw new Error('anvil did not start (no pid)')
  const exited = child.exitCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined)
  let stopping: Promise<void> | undefined
  return {
    rpcUrl,
    pid,
    privateKeys: devPrivateKeys(),
    pause: async () => {
      process.kill(pid, 'SIGSTOP')
      await untilStopped(pid)
    },
    resume: () => process.kill(pid, 'SIGCONT'),
    stop: () => (stopping ??= stopProcess(child, pid, exited)),
  }
}

async function stopProcess(child: ChildProcess, pid: number, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  process.kill(pid, 'SIGCONT') // a paused process would not act on SIGTERM
  process.kill(pid, 'SIGTERM')
  const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), STOP_TIMEOUT)
  await exited
  clearTimeout(timer)
}

/** Wait (bounded) until /proc shows every thread stopped; where there is no /proc, a short pause. */
async function untilStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 2_000
  while (Date.now() < deadline) {
    const threads = await readdir(`/proc/${pid}/task`).catch(() => undefined)
    if (threads === undefined) return sleep(100)
    const states = await Promise.all(
      threads.map((tid) => readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => ') T ')),
    )
    if (states.every((stat) => /\) [tT] /.test(stat))) return
    await sleep(5)
  }
  throw new Error(`anvil (pid ${pid}) did not stop within 2 s of SIGSTOP`)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function waitReady(rpcUrl: string, child: ChildProcess, timeout: number): Promise<void> {
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}: ${stderr.trim()}`)
    if (await answersChainId(rpcUrl)) return
    await sleep(25)
  }
  throw new Error(`anvil at ${rpcUrl} did not answer eth_chainId within ${timeout} ms: ${stderr.trim()}`)
}

async function answersChainId(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    })
    const body = (await res.json()) as { result?: unknown }
    return typeof body.result === 'string'
  } catch {
    return false
  }
}

/**
 * The native binary from anvil's platform package. Only `@foundry-rs/anvil-linux-amd64` is a dependency: the
 * package registry these machines reach serves no other platform's build, and `npm ci` refuses a lock file
 * that names packages it cannot fetch (see docs/decisions.md).
 */
function anvilBinary(): string {
  const require = createRequire(import.meta.url)
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    return require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`)
  } catch {
    throw new Error(`no anvil binary for ${process.platform}-${arch}: run npm ci on linux x64`)
  }
}

function devPrivateKeys(): readonly `0x${string}`[] {
  devKeys ??= Array.from({ length: DEV_ACCOUNTS }, (_, addressIndex) => {
    const key = mnemonicToAccount(DEV_MNEMONIC, { addressIndex }).getHdKey().privateKey
    if (key === null) throw new Error('no private key derived from the dev mnemonic')
    return bytesToHex(key)
  })
  return devKeys
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}
