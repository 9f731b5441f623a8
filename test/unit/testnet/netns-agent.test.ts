/**
 * The namespace agent's protocol, run here without a namespace (the agent does not care where it runs):
 * a header line asks for a TCP connection, `OK` then a raw pipe, or `ERR <code>`.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { readLine } from '../../../src/testnet/netns/line.js'

describe('namespace agent', () => {
  let dir: string
  let socketPath: string
  let agent: ChildProcess
  let echo: Server
  let echoPort: number

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-agent-'))
    socketPath = join(dir, 'a.sock')
    echo = createServer((s) => s.pipe(s)).listen(0, '127.0.0.1')
    await once(echo, 'listening')
    echoPort = (echo.address() as AddressInfo).port
    agent = spawn(process.execPath, ['--import', 'tsx', 'src/testnet/netns/agent-main.ts', socketPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const [line] = (await once(
      createInterface({ input: agent.stdout as NodeJS.ReadableStream }),
      'line',
    )) as [string]
    assert.equal(line, 'ready')
  })
  after(async () => {
    agent.kill('SIGTERM')
    await once(agent, 'exit')
    echo.close()
    await rm(dir, { recursive: true, force: true })
  })

  const ask = async (header: string): Promise<{ socket: Socket; status: string }> => {
    const socket = connect(socketPath)
    await once(socket, 'connect')
    socket.write(header)
    return { socket, status: await readLine(socket) }
  }

  test('its socket is for its owner only', async () => {
    assert.equal((await stat(socketPath)).mode & 0o777, 0o600)
  })

  test('OK, then bytes both ways, including those sent with the header', async () => {
    const { socket, status } = await ask(`127.0.0.1 ${echoPort} 2000\nfirst `)
    assert.equal(status, 'OK')
    socket.resume()
    const got: Buffer[] = []
    socket.on('data', (c: Buffer) => got.push(c))
    socket.write('second')
    while (Buffer.concat(got).toString() !== 'first second') await once(socket, 'data')
    socket.destroy()
  })

  test('a refused connection is ERR with its errno code', async () => {
    const closed = createServer().listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const port = (closed.address() as AddressInfo).port
    closed.close()
    const { socket, status } = await ask(`127.0.0.1 ${port} 2000\n`)
    assert.equal(status, 'ERR ECONNREFUSED')
    socket.destroy()
  })

  test('a header line over the limit closes the connection', async () => {
    const socket = connect(socketPath)
    await once(socket, 'connect')
    socket.write('x'.repeat(1000))
    await assert.rejects(readLine(socket))
  })
})
