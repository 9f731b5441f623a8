/** An HTTP server on a free loopback port, as the demo's and the benchmarks' stand-in services run. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LoopbackHttp {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Stop listening and close every connection, kept-alive ones too. */
  close(): Promise<void>
}

/** Listen on 127.0.0.1 at a port the system picks. */
export async function listenLoopback(server: Server): Promise<LoopbackHttp> {
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve()
        })
        server.closeAllConnections()
      }),
  }
}
