import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import {
  firstEcho,
  oneWay,
  percentile,
  readExactly,
  roundTrips,
  serveMeasure,
} from '../../../src/testnet/measure.js'

async function loopbackPair(t: { after: (fn: () => void) => void }): Promise<Socket> {
  const server = createServer(serveMeasure).listen(0, '127.0.0.1')
  await once(server, 'listening')
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
  await once(socket, 'connect')
  t.after(() => {
    socket.destroy()
    server.close()
  })
  return socket
}

test('echo mode: the first byte comes back, then round trips of exact sizes', async (t) => {
  const socket = await loopbackPair(t)
  assert.ok((await firstEcho(socket)) >= 0)
  const samples = await roundTrips(socket, 64, 20)
  assert.equal(samples.length, 20)
})

test('sink mode: the sender is acknowledged only after every byte arrived', async (t) => {
  const socket = await loopbackPair(t)
  const bps = await oneWay(socket, 1024 * 1024 + 7)
  assert.ok(bps > 0)
})

test('readExactly keeps what it did not consume for the next reader', async () => {
  const stream = new PassThrough()
  stream.write(Buffer.from('abcdef'))
  assert.equal((await readExactly(stream, 2)).toString(), 'ab')
  assert.equal((await readExactly(stream, 4)).toString(), 'cdef')
  const pending = readExactly(stream, 3)
  stream.write('x')
  stream.write('yz')
  assert.equal((await pending).toString(), 'xyz')
  stream.end()
  await assert.rejects(readExactly(stream, 1))
})

test('percentiles pick from the sorted samples', () => {
  const s = Array.from({ length: 100 }, (_, i) => 100 - i)
  assert.equal(percentile(s, 50), 50)
  assert.equal(percentile(s, 99), 99)
  assert.equal(percentile(s, 100), 100)
})
