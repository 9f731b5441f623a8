/** Asking the kernel for a free TCP port. */
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
