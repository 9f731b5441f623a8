/**
 * The namespace agent: a process started inside a host's network namespace (`ip netns exec`), listening on a
 * unix socket (file system, so reachable from any namespace). Each connection asks for one TCP connection
 * made from inside the namespace — `<host> <port> <timeout ms>\n` — and gets `OK\n` then a raw byte pipe, or
 * `ERR <code>\n`. `LISTEN <port> <unix path>\n` instead opens a TCP listener on 127.0.0.1:<port> inside the
 * namespace (0: any) whose connections are piped to that unix socket, and answers `OK <port>\n`: a worker
 * inside reaches a service of this side (its registry, its sample service) at a loopback address of its own.
 * The testnet uses it to reach routers' SAM/I2PControl/console ports (bound inside their
 * namespaces) and to probe which connections a host can open.
 *
 *   node agent-main.js <socket path>
 */
import { chmodSync, rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { readLine } from './line.js'

const socketPath = process.argv[2]
if (socketPath === undefined) {
  process.stderr.write('usage: agent-main <socket path>\n')
  process.exit(2)
}

const server = createServer((client) => {
  client.on('error', () => client.destroy())
  readLine(client).then(
    (line) => {
      handle(client, line)
    },
    () => client.destroy(),
  )
})

function handle(client: Socket, line: string): void {
  if (line.startsWith('LISTEN ')) {
    listenInside(client, line)
    return
  }
  const [host, port, timeout] = line.split(' ')
  const target = connect({ host: host ?? '', port: Number(port), timeout: Number(timeout) || 5000 })
  const fail = (code: string) => {
    client.end(`ERR ${code}\n`)
    target.destroy()
  }
  target.once('timeout', () => {
    fail('ETIMEDOUT')
  })
  target.once('error', (err: NodeJS.ErrnoException) => {
    fail(err.code ?? 'ERROR')
  })
  target.once('connect', () => {
    target.setTimeout(0)
    target.removeAllListeners('error')
    target.on('error', () => client.destroy())
    client.write('OK\n')
    client.pipe(target).pipe(client)
    client.resume()
  })
}

function listenInside(client: Socket, line: string): void {
  const [, port, unixPath = ''] = line.split(' ')
  const inside = createServer((conn) => {
    const upstream = connect(unixPath)
    conn.on('error', () => upstream.destroy())
    upstream.on('error', () => conn.destroy())
    conn.pipe(upstream).pipe(conn)
  })
  inside.once('error', (err: NodeJS.ErrnoException) => client.end(`ERR ${err.code ?? 'ERROR'}\n`))
  inside.listen(Number(port), '127.0.0.1', () => {
    const address = inside.address()
    client.end(`OK ${typeof address === 'object' && address !== null ? address.port : 0}\n`)
  })
}

rmSync(socketPath, { force: true })
server.listen(socketPath, () => {
  chmodSync(socketPath, 0o600)
  process.stdout.write('ready\n')
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close()
    rmSync(socketPath, { force: true })
    process.exit(0)
  })
}
