/**
 * The way out to a peer: one datagram out at a time; what waits goes together in the next (a BATCH), a train of
 * fragments alone; an answer from the peer lets the next one go at once, silence after `hold`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeDatagram, encodeAck, fragment } from '../../../src/messages/frames.js'
import { createPipes } from '../../../src/messages/pipe.js'
import type { DatagramTransport } from '../../../src/messages/transport.js'
import { MESSAGE_FRAGMENT_BYTES } from '../../../src/constants.js'

const B = 'bbbb.b32.i2p'
const C = 'cccc.b32.i2p'
const id = (n: number): string => n.toString(16).padStart(32, '0')
const small = (n: number): Buffer => fragment(id(n), Buffer.from(`m${n}`))[0] as Buffer

function recorder(): { transport: DatagramTransport; sent: Array<{ to: string; frames: number }> } {
  const sent: Array<{ to: string; frames: number }> = []
  return {
    sent,
    transport: {
      send: (to, bytes) => {
        sent.push({ to, frames: decodeDatagram(Buffer.from(bytes)).length })
        return Promise.resolve()
      },
      lookup: () => Promise.resolve(''),
    },
  }
}

test('one datagram out per peer: the sends of one turn leave together, what waits goes once the peer answered', async () => {
  const { transport, sent } = recorder()
  const pipes = createPipes({ hold: 10_000, minHold: 10, maxHold: 10_000 }, transport)
  const first = [0, 1].map((n) => pipes.send(B, 'B', id(n), [small(n)]))
  const other = pipes.send(C, 'C', id(9), [small(9)]) // another peer does not wait for B
  await Promise.all([...first, other])
  assert.deepEqual(
    sent,
    [
      { to: 'B', frames: 2 },
      { to: 'C', frames: 1 },
    ],
    'the two sends to B of one turn went in one datagram',
  )
  const rest = [2, 3, 4, 5].map((n) => pipes.send(B, 'B', id(n), [small(n)]))
  await sleep(20)
  assert.equal(sent.length, 2, 'nothing more until B answers')
  pipes.heard(B, id(7)) // an ACK of something else (a late answer to an older datagram)
  pipes.heard(C, id(0)) // from someone else
  await sleep(20)
  assert.equal(sent.length, 2, 'an ACK of a message it did not carry does not answer the datagram out')
  pipes.heard(B, id(1)) // one of the two it carried
  await Promise.all(rest)
  assert.deepEqual(sent[2], { to: 'B', frames: 4 }, 'the four waiting went in one datagram')
  assert.equal(pipes.busy, 2, 'B and C each have a datagram out')
})

test('without an answer the next datagram leaves after the hold', async () => {
  const { transport, sent } = recorder()
  const pipes = createPipes({ hold: 60, minHold: 10, maxHold: 10_000 }, transport)
  await pipes.send(B, 'B', id(0), [small(0)])
  const t0 = performance.now()
  await pipes.send(B, 'B', id(1), [small(1)])
  const waited = performance.now() - t0
  assert.ok(waited >= 55, `waited ${waited.toFixed(0)} ms`)
  assert.equal(sent.length, 2)
})

test('once a round trip was measured the hold is srtt + 4 rttvar (RFC 6298), not the first hold', async () => {
  const { transport } = recorder()
  const pipes = createPipes({ hold: 10_000, minHold: 10, maxHold: 10_000 }, transport)
  await pipes.send(B, 'B', id(0), [small(0)])
  await sleep(30)
  pipes.heard(B, id(0)) // rtt >= 30: srtt = rtt, rttvar = rtt / 2, hold = 3 rtt >= 90
  await pipes.send(B, 'B', id(1), [small(1)])
  const t0 = performance.now()
  await pipes.send(B, 'B', id(2), [small(2)]) // no answer to id 1: waits the hold
  const waited = performance.now() - t0
  assert.ok(waited >= 85 && waited < 5_000, `waited ${waited.toFixed(0)} ms`)
})

test('the fragments of a large message leave back to back as a train, alone', async () => {
  const { transport, sent } = recorder()
  const pipes = createPipes({ hold: 10_000, minHold: 10, maxHold: 10_000 }, transport)
  await pipes.send(B, 'B', id(0), [small(0)])
  const train = pipes.send(B, 'B', id(1), fragment(id(1), Buffer.alloc(3 * MESSAGE_FRAGMENT_BYTES)))
  const after = pipes.send(B, 'B', id(2), [encodeAck(id(2), 'delivered')])
  pipes.heard(B, id(0))
  await train
  assert.deepEqual(
    sent.map((s) => s.frames),
    [1, 1, 1, 1],
    'three fragments, each its own datagram, not batched',
  )
  pipes.heard(B, id(1))
  await after
  assert.equal(sent.length, 5)
})

test('a failed send fails the sends it carried, and the pipe goes on', async () => {
  let fail = true
  const sent: number[] = []
  const pipes = createPipes(
    { hold: 10, minHold: 10, maxHold: 10 },
    {
      send: () => {
        if (fail) return Promise.reject(new Error('bridge gone'))
        sent.push(1)
        return Promise.resolve()
      },
      lookup: () => Promise.resolve(''),
    },
  )
  await assert.rejects(pipes.send(B, 'B', id(0), [small(0)]), /bridge gone/)
  fail = false
  await pipes.send(B, 'B', id(1), [small(1)])
  assert.deepEqual(sent, [1])
})
