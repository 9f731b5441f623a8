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
      if (!issued.has(port) && (await bindable(host, port))) return remember(port)
    }
  }
  return remember(await kernelPort(host)) // a range that leaves no room below it, or a crowded one
}

function remember(port: number): number {
  if (issued.size >= MAX_REMEMBERED) issued.clear()
  issued.add(port)
  return port
}

/** The first port of the kernel's ephemeral range (`net.ipv4.ip_local_port_range`). */
async function ephemeralLow(): Promise<number> {
  try {
    const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)
    const n = Number(low)
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_EPHEMERAL_LOW
  } catch {
    return DEFAULT_EPHEMERAL_LOW
  }
}

/** Whether a listener can open on `host:port` now (it is opened and closed again). */
function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => {
      resolve(false)
    })
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => {
        resolve(true)
      })
    })
  })
}

/** The kernel's choice (from the ephemeral range). */
function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address()
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port)
        else reject(new Error(`no port on ${host}`))
      })
    })
  })
}
