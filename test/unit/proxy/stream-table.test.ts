import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { isPRouterError } from '../../../src/errors.js'
import { createStreamTable } from '../../../src/proxy/stream-table.js'

class FakeStream {
  destroyed = false
  constructor(readonly name: string) {}
  destroy(): void {
    this.destroyed = true
  }
}

const table = (over: Partial<Parameters<typeof createStreamTable>[0]> = {}) =>
  createStreamTable<FakeStream>({ maxStreams: 4, maxPerCaller: 2, anonymousIdleTimeout: 60_000, ...over })

const tooMany = (err: unknown): boolean => isPRouterError(err, 'ERR_TOO_MANY_STREAMS')

test('one caller address holds at most maxPerCaller streams; others are not affected', (t) => {
  const s = table()
  t.after(() => {
    s.clear()
  })
  assert.equal(s.admit(new FakeStream('a1'), 'a'), undefined)
  assert.equal(s.admit(new FakeStream('a2'), 'a'), undefined)
  assert.ok(tooMany(s.admit(new FakeStream('a3'), 'a')))
  assert.equal(s.admit(new FakeStream('b1'), 'b'), undefined)
  assert.deepEqual(
    [...s.callers()],
    [
      ['a', 2],
      ['b', 1],
    ],
  )
  assert.equal(s.size, 3)
})

test('a closed stream frees its slot and its caller count (remove is idempotent)', (t) => {
  const s = table()
  t.after(() => {
    s.clear()
  })
  const a1 = new FakeStream('a1')
  s.admit(a1, 'a')
  s.admit(new FakeStream('a2'), 'a')
  s.remove(a1)
  s.remove(a1)
  assert.equal(s.size, 1)
  assert.equal(s.admit(new FakeStream('a3'), 'a'), undefined)
})

test('when full, an idle anonymous stream is evicted before an idle registered one, longest idle first', async (t) => {
  const s = table({ maxPerCaller: 4 })
  t.after(() => {
    s.clear()
  })
  const reg = new FakeStream('reg')
  const anonOld = new FakeStream('anonOld')
  const anonNew = new FakeStream('anonNew')
  const busy = new FakeStream('busy')
  s.admit(reg, 'r')
  s.identified(reg, false)
  s.admit(anonOld, 'x')
  s.identified(anonOld, true)
  await sleep(5)
  s.admit(anonNew, 'y')
  s.identified(anonNew, true)
  s.admit(busy, 'z')
  s.requestStarted(busy)
  const n1 = new FakeStream('n1')
  assert.equal(s.admit(n1, 'n'), undefined)
  assert.deepEqual([anonOld.destroyed, anonNew.destroyed, reg.destroyed], [true, false, false])
  const n2 = new FakeStream('n2')
  assert.equal(s.admit(n2, 'n2'), undefined)
  assert.deepEqual([anonNew.destroyed, reg.destroyed], [true, false])
  for (const n of [n1, n2]) {
    s.identified(n, false)
    s.requestStarted(n)
  }
  assert.equal(s.admit(new FakeStream('n3'), 'n3'), undefined, 'the idle registered stream makes room')
  assert.equal(reg.destroyed, true)
  assert.equal(s.size, 4)
})

test('busy anonymous streams are given up last; busy registered streams never', (t) => {
  const s = table({ maxStreams: 2 })
  t.after(() => {
    s.clear()
  })
  const anon = new FakeStream('anon')
  const reg = new FakeStream('reg')
  s.admit(anon, 'x')
  s.identified(anon, true)
  s.requestStarted(anon)
  s.admit(reg, 'r')
  s.identified(reg, false)
  s.requestStarted(reg)
  const newcomer = new FakeStream('new')
  assert.equal(s.admit(newcomer, 'n'), undefined)
  assert.deepEqual([anon.destroyed, reg.destroyed], [true, false])
  s.identified(newcomer, false)
  s.requestStarted(newcomer)
  assert.ok(tooMany(s.admit(new FakeStream('late'), 'l')), 'every stream is busy with a registered caller')
  assert.equal(reg.destroyed, false)
})

test('an idle anonymous stream closes after anonymousIdleTimeout; a busy or registered one does not', async (t) => {
  const s = table({ anonymousIdleTimeout: 50 })
  t.after(() => {
    s.clear()
  })
  const idle = new FakeStream('idle')
  const busy = new FakeStream('busy')
  const reg = new FakeStream('reg')
  s.admit(idle, 'x')
  s.identified(idle, true)
  s.admit(busy, 'y')
  s.identified(busy, true)
  s.requestStarted(busy)
  s.admit(reg, 'r')
  s.identified(reg, false)
  await sleep(120)
  assert.deepEqual([idle.destroyed, busy.destroyed, reg.destroyed], [true, false, false])
  assert.equal(s.size, 2)
  s.requestEnded(busy)
  await sleep(20)
  assert.equal(busy.destroyed, false, 'the idle time starts when its request ends')
  await sleep(100)
  assert.equal(busy.destroyed, true)
})

test('a stream that never sends a byte (never identified) closes after anonymousIdleTimeout', async (t) => {
  const s = table({ anonymousIdleTimeout: 50 })
  t.after(() => {
    s.clear()
  })
  const silent = new FakeStream('silent')
  const caller = new FakeStream('caller')
  s.admit(silent, 'x')
  s.admit(caller, 'r')
  s.requestStarted(caller) // its handshake ping arrives at once
  s.requestEnded(caller)
  s.identified(caller, false) // the lookup proved a registered caller
  await sleep(120)
  assert.deepEqual([silent.destroyed, caller.destroyed], [true, false])
  assert.equal(s.size, 1)
})
