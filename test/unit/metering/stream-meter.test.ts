/**
 * Counting at the stream boundary over real loopback sockets: the bytes a socket moved go to its peer on
 * flush and on close, once; a pending caller lookup is waited for; reassign splits the bytes at the change.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { setImmediate as tick } from 'node:timers/promises'
import { createPeerMeter, type PeerMeter } from '../../../src/metering/peer-meter.js'
import { createStreamMeter, type StreamMeter } from '../../../src/metering/stream-meter.js'
import { readBytes } from '../../helpers/read-bytes.js'

const A = `0x${'a'.repeat(64)}`
const B = `0x${'b'.repeat(64)}`

interface Pair {
  /** The end the meter tracks. */
  local: net.Socket
  remote: net.Socket
}

async function socketPair(t: TestContext): Promise<Pair> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const local = net.connect(port, '127.0.0.1')
  await once(local, 'connect')
  const [remote] = await accepted
  t.after(async () => {
    local.destroy()
    remote.destroy()
    server.close()
    await once(server, 'close')
  })
  return { local, remote }
}

function meters(): { peers: PeerMeter; streams: StreamMeter } {
  const peers = createPeerMeter()
  const streams = createStreamMeter({
    peers,
    bytes: (socket) => ({ read: socket.bytesRead, written: socket.bytesWritten }),
  })
  return { peers, streams }
}

/** `from` writes n bytes; resolves when `to` has them all. */
async function send(from: net.Socket, to: net.Socket, n: number): Promise<void> {
  const arrived = readBytes(to, n)
  from.write(Buffer.alloc(n, 0x61))
  await arrived
  to.removeAllListeners('data')
}

/** Promise.withResolvers is Node 22: a lookup the test answers by hand. */
function deferred(): {
  promise: Promise<string | undefined>
  resolve: (peer: string | undefined) => void
  reject: (err: Error) => void
} {
  let resolve: (peer: string | undefined) => void = () => undefined
  let reject: (err: Error) => void = () => undefined
  const promise = new Promise<string | undefined>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function bytesOf(peers: PeerMeter, peer: string): { in: number; out: number } | undefined {
  const p = peers.get(peer)
  return p === undefined ? undefined : { in: p.bytesIn, out: p.bytesOut }
}

test('flush adds what moved since the last flush; nothing is counted twice', async (t) => {
  const { local, remote } = await socketPair(t)
  const { peers, streams } = meters()
  streams.track(local, A)
  assert.equal(streams.open, 1)
  await send(local, remote, 100)
  await send(remote, local, 40)
  streams.flush()
  assert.deepEqual(bytesOf(peers, A), { in: 40, out: 100 })
  streams.flush()
  streams.flush()
  assert.deepEqual(bytesOf(peers, A), { in: 40, out: 100 }, 'flushes without traffic add nothing')
  await send(local, remote, 10)
  await send(remote, local, 1)
  streams.flush()
  assert.deepEqual(bytesOf(peers, A), { in: 41, out: 110 })
})

test('the close adds the bytes since the last flush, once, and the stream is no longer tracked', async (t) => {
  const { local, remote } = await socketPair(t)
  const { peers, streams } = meters()
  streams.track(local, A)
  await send(local, remote, 30)
  streams.flush()
  await send(local, remote, 7)
  await send(remote, local, 3)
  local.destroy()
  await once(local, 'close')
  assert.deepEqual(bytesOf(peers, A), { in: 3, out: 37 })
  assert.equal(streams.open, 0)
  streams.flush()
  assert.deepEqual(bytesOf(peers, A), { in: 3, out: 37 }, 'a flush after the close adds nothing')
})

test('a stream tracked with a pending lookup is counted when the lookup answers', async (t) => {
  const { local, remote } = await socketPair(t)
  const { peers, streams } = meters()
  const lookup = deferred()
  streams.track(local, lookup.promise)
  await send(remote, local, 50)
  streams.flush()
  assert.equal(peers.all().length, 0, 'nothing is attributed before the caller is known')
  lookup.resolve(A)
  await tick()
  assert.deepEqual(bytesOf(peers, A), { in: 50, out: 0 }, 'the bytes from before the answer count')
  await send(local, remote, 5)
  streams.flush()
  assert.deepEqual(bytesOf(peers, A), { in: 50, out: 5 })
})

test('a stream that closed before its lookup answered is counted when it answers', async (t) => {
  const { local, remote } = await socketPair(t)
  const { peers, streams } = meters()
  const lookup = deferred()
  streams.track(local, lookup.promise)
  await send(remote, local, 12)
  await send(local, remote, 34)
  local.destroy()
  await once(local, 'close')
  assert.equal(peers.all().length, 0)
  assert.equal(streams.open, 1, 'kept until its peer is known')
  lookup.resolve(B)
  await tick()
  assert.deepEqual(bytesOf(peers, B), { in: 12, out: 34 })
  assert.equal(streams.open, 0)
})

test('a lookup that fails or names nobody counts the stream as anonymous', async (t) => {
  const { peers, streams } = meters()
  const failed = await socketPair(t)
  const unnamed = await socketPair(t)
  const rejected = deferred()
  streams.track(failed.local, rejected.promise)
  streams.track(unnamed.local, Promise.resolve(undefined))
  await send(failed.remote, failed.local, 9)
  await send(unnamed.remote, unnamed.local, 1)
  rejected.reject(new Error('registry down'))
  await tick()
  streams.flush()
  assert.deepEqual(bytesOf(peers, 'anonymous'), { in: 10, out: 0 })
  assert.deepEqual(
    peers.all().map((p) => p.peer),
    ['anonymous'],
  )
})

test('reassign: the bytes so far stay with the old peer, later bytes go to the new one', async (t) => {
  const { local, remote } = await socketPair(t)
  const { peers, streams } = meters()
  streams.track(local, A)
  await send(remote, local, 10)
  await send(local, remote, 2)
  streams.reassign(local, B)
  await send(remote, local, 20)
  await send(local, remote, 4)
  streams.flush()
  assert.deepEqual(bytesOf(peers, A), { in: 10, out: 2 })
  assert.deepEqual(bytesOf(peers, B), { in: 20, out: 4 })
  streams.reassign(local, B) // the same peer again: nothing moves
  await send(remote, local, 1)
  local.destroy()
  await once(local, 'close')
  assert.deepEqual(bytesOf(peers, A), { in: 10, out: 2 })
  assert.deepEqual(bytesOf(peers, B), { in: 21, out: 4 })
})

test('a reassign while the first lookup is pending wins over that lookup', async (t) => {
  const { local, remote } = await socketPair(t)
  const { peers, streams } = meters()
  let answer: (peer: string) => void = () => undefined
  streams.track(local, new Promise<string>((resolve) => (answer = resolve)))
  streams.reassign(local, B)
  answer(A)
  await send(remote, local, 7)
  streams.flush()
  assert.deepEqual(bytesOf(peers, B), { in: 7, out: 0 })
  assert.equal(peers.get(A), undefined)
})

test('reassign of a socket never tracked (or already closed) does nothing', async (t) => {
  const { local } = await socketPair(t)
  const { peers, streams } = meters()
  streams.reassign(local, A)
  streams.flush()
  assert.equal(peers.all().length, 0)
  assert.equal(streams.open, 0)
})
