/** Addresses for a testnet: one loopback IP per router, free ports asked of the kernel. */
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'

/** A free TCP port on `host` (bound and released; the window for a race is small and tolerated). */
export function freePort(host: string): Promise<number> {
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

/**
 * The loopback /24 a testnet in `dir` uses: 127.X.Y.0 with X.Y derived from the folder's path, so two
 * testnets in different folders get different addresses (and can coexist) without coordination.
 */
export function loopbackPrefix(dir: string): string {
  const h = createHash('sha256').update(dir).digest()
  return `127.${1 + ((h[0] ?? 0) % 254)}.${h[1] ?? 0}`
}

export function routerHost(prefix: string, index: number): string {
  return `${prefix}.${11 + index}`
}
