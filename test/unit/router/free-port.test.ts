import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { freePort } from '../../../src/router/free-port.js'

test('free ports lie below the ephemeral range, are never handed out twice, and a listener opens on each', async () => {
  const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)
  const ports: number[] = []
  for (let i = 0; i < 200; i++) ports.push(await freePort('127.0.0.1'))
  assert.equal(new Set(ports).size, ports.length, 'no port twice')
  for (const port of ports) assert.ok(port >= 10_000 && port < Number(low), `${port} below ${low}`)
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve))
  server.close()
})

test('connections made after a port was picked never take it (they use the ephemeral range)', async () => {
  const target = createServer((s) => s.destroy())
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  const { port: targetPort } = target.address() as { port: number }
  const picked = new Set<number>()
  for (let i = 0; i < 20; i++) picked.add(await freePort('127.0.0.1'))
  const locals = await Promise.all(
    Array.from({ length: 200 }, async () => {
      const socket = connect(targetPort, '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      const local = socket.localPort ?? 0
      socket.destroy()
      return local
    }),
  )
  target.close()
  const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/)
  assert.ok(
    locals.every((p) => p >= Number(low)),
    'outgoing connections take their local ports from the ephemeral range',
  )
  assert.deepEqual(
    locals.filter((p) => picked.has(p)),
    [],
  )
})
