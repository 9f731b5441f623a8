/**
 * This side of a namespace agent (agent-main.ts): start it inside a namespace, then `forward` a TCP port of
 * that namespace to a loopback port here, or `probe` whether a TCP connection from inside succeeds.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { PRouterError } from '../../errors.js'
import type { HostPort } from '../../router/config.js'
import type { Logger } from '../../logger.js'
import { readLine } from './line.js'
import { inNamespace } from './shell.js'

export interface ProbeResult {
  connected: boolean
  /** Why not: ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH … */
  error?: string
}

export interface Agent {
  readonly netns: string
  readonly pid: number
  /** A loopback port here whose connections are made to `target` from inside the namespace. */
  forward(target: HostPort): Promise<HostPort>
  /**
   * The reverse of `forward`: a loopback address inside the namespace whose connections reach `target` here
   * (through a unix socket beside the agent's).
   */
  expose(target: HostPort): Promise<HostPort>
  /** Try one TCP connection to `target` from inside the namespace. */
  probe(target: HostPort, timeoutMs: number): Promise<ProbeResult>
  /** Close the forwards, stop the agent (SIGTERM by pid) and wait for it. */
  stop(): Promise<void>
}

export async function startAgent(netns: string, socketPath: string, logger: Logger): Promise<Agent> {
  const child = spawnAgent(netns, socketPath)
  const log = logger.child({ component: 'netns-agent', netns })
  createInterface({ input: child.stderr }).on('line', (line) => {
    log.warn(line)
  })
  const exited = once(child, 'exit')
  const first: unknown = await Promise.race([
    once(createInterface({ input: child.stdout }), 'line').then(([line]: unknown[]) => line),
    exited.then(([code]: unknown[]) => {
      throw new PRouterError('ERR_NETNS', `the agent in ${netns} exited (${String(code)}) before ready`)
    }),
  ])
  if (first !== 'ready') throw new PRouterError('ERR_NETNS', `the agent in ${netns} said "${String(first)}"`)
  const servers: Server[] = []
  return {
    netns,
    pid: child.pid ?? 0,
    forward: async (target) => {
      const server = forwardServer(socketPath, target)
      servers.push(server)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      const address = server.address()
      if (address === null || typeof address === 'string') throw new Error('no forward port')
      return { host: '127.0.0.1', port: address.port }
    },
    probe: (target, timeoutMs) => probe(socketPath, target, timeoutMs),
    expose: async (target) => {
      const server = await exposeServer(`${socketPath}.${servers.length}`, target)
      servers.push(server)
      return listenInside(socketPath, `${socketPath}.${servers.length - 1}`)
    },
    stop: async () => {
      for (const s of servers) s.close()
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await exited
      }
    },
  }
}

function spawnAgent(netns: string, socketPath: string): ChildProcessByStdio<null, Readable, Readable> {
  const ts = import.meta.url.endsWith('.ts')
  const main = fileURLToPath(new URL(ts ? './agent-main.ts' : './agent-main.js', import.meta.url))
  const node = [process.execPath, ...(ts ? ['--import', 'tsx'] : []), main, socketPath]
  return spawn('ip', [...inNamespace(netns), ...node], { stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Open a connection through the agent; resolves with the socket once the agent says OK. */
async function open(socketPath: string, target: HostPort, timeoutMs: number): Promise<Socket> {
  const socket = connect(socketPath)
  await once(socket, 'connect')
  socket.write(`${target.host} ${target.port} ${timeoutMs}\n`)
  const status = await readLine(socket)
  if (status === 'OK') return socket
  socket.destroy()
  throw Object.assign(new Error(status), { code: status.replace(/^ERR /, '') })
}

async function probe(socketPath: string, target: HostPort, timeoutMs: number): Promise<ProbeResult> {
  try {
    const socket = await open(socketPath, target, timeoutMs)
    socket.destroy()
    return { connected: true }
  } catch (err) {
    return { connected: false, error: (err as { code?: string }).code ?? (err as Error).message }
  }
}

function forwardServer(socketPath: string, target: HostPort): Server {
  return createServer((client) => {
    client.pause()
    client.on('error', () => client.destroy())
    open(socketPath, target, 5000).then(
      (upstream) => {
        upstream.on('error', () => client.destroy())
        client.on('close', () => upstream.destroy())
        upstream.on('close', () => client.destroy())
        client.pipe(upstream).pipe(client)
        client.resume()
        upstream.resume()
      },
      () => client.destroy(),
    )
  })
}

/** A unix socket here whose connections are piped to `target` (a TCP address of this namespace). */
async function exposeServer(path: string, target: HostPort): Promise<Server> {
  const server = createServer((conn) => {
    const upstream = connect(target.port, target.host)
    conn.on('error', () => upstream.destroy())
    upstream.on('error', () => conn.destroy())
    conn.pipe(upstream).pipe(conn)
  })
  server.listen(path)
  await once(server, 'listening')
  return server
}

/** Ask the agent for a listener inside its namespace piped to `unixPath`; resolves with its address. */
async function listenInside(socketPath: string, unixPath: string): Promise<HostPort> {
  const socket = connect(socketPath)
  await once(socket, 'connect')
  socket.write(`LISTEN 0 ${unixPath}\n`)
  const status = await readLine(socket)
  socket.destroy()
  const port = /^OK (\d+)$/.exec(status)?.[1]
  if (port === undefined) throw new PRouterError('ERR_NETNS', `agent listen: ${status}`)
  return { host: '127.0.0.1', port: Number(port) }
}
