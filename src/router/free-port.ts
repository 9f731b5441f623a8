/**
 * Free TCP ports for listeners that open later (i2pd's SAM, I2PControl, console and NTCP2 when the config
 * says 0; the testnet's routers). Picked below the kernel's ephemeral range: every outgoing connection takes
 * its local port from that range, so a port picked there (as `listen(0)` picks) can be taken by any
 * connection made before the listener opens — seen as an i2pd that could not open I2PControl and never
 * became ready. Below the range only listeners compete, and a port this process handed out is not handed out
 * again.
 */
import { randomInt } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'

/** Ports under this are left to well-known and commonly configured services. */
const LOWEST = 10_000
const ATTEMPTS = 64
/** What Linux uses when the range cannot be read. */
const DEFAULT_EPHEMERAL_LOW = 32_768
const MAX_REMEMBERED = 10_000
const issued = new Set<number>()

/** A free TCP port on `host`, below the ephemeral range, not handed out before by this process. */
export async function freePort(host: string): Promise<number> {
  const highest = (await ephemeralLow()) - 1
  if (highest - LOWEST >= ATTEMPTS) {
    for (let i = 0; i < ATTEMPTS; i++) {
      const port = randomInt(LOWEST, highest + 1)
      if (!issued.has(port) && (await opens(host, port))) return remember(port)
    }
  }
  return remember(await listenOnce(host, 0)) // the kernel's choice: no room below its range, or a crowded one
}

/**
 * Open a listener on `host:port` and close it again: the port it had (the kernel's choice for port 0), or the
 * listen error (`EADDRINUSE` …).
 */
export function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address()
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port)
        else reject(new Error(`no port on ${host}`))
      })
    })
  })
}

function opens(host: string, port: number): Promise<boolean> {
  return listenOnce(host, port).then(
    () => true,
    () => false,
  )
}

function remember(port: number): number {
  if (issued.size >= MAX_REMEMBERED) issued.clear()
  issued.add(port)
  return port
}

let ephemeralRangeLow: Promise<number> | undefined

/** The first port of the kernel's ephemeral range (`net.ipv4.ip_local_port_range`), read once, when first needed. */
function ephemeralLow(): Promise<number> {
  ephemeralRangeLow ??= readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').then(
    (text) => {
      const n = Number(text.trim().split(/\s+/)[0])
      return Number.isInteger(n) && n > 0 ? n : DEFAULT_EPHEMERAL_LOW
    },
    () => DEFAULT_EPHEMERAL_LOW,
  )
  return ephemeralRangeLow
}
