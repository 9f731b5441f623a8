/** One piece of work per key: shared by concurrent callers, aborted only when every caller has left. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createFlights } from '../../../src/registry/single-flight.js'

function gate(): {
  open: () => void
  work: (signal: AbortSignal) => Promise<string>
  runs: number
  aborted: number
} {
  let release = (): void => undefined
  const opened = new Promise<void>((resolve) => (release = resolve))
  const g = {
    runs: 0,
    aborted: 0,
    open: () => {
      release()
    },
    work: async (signal: AbortSignal) => {
      g.runs++
      signal.addEventListener('abort', () => g.aborted++)
      await opened
      return 'done'
    },
  }
  return g
}

test('concurrent callers of one key share one run; another key runs apart; a later call runs again', async () => {
  const flights = createFlights<string>()
  const g = gate()
  const calls = [flights.run('a', g.work), flights.run('a', g.work), flights.run('b', g.work)]
  g.open()
  assert.deepEqual(await Promise.all(calls), ['done', 'done', 'done'])
  assert.equal(g.runs, 2)
  assert.equal(flights.size, 0)
  await flights.run('a', g.work)
  assert.equal(g.runs, 3)
})

test("one caller's abort rejects that caller only; the work goes on for the others", async () => {
  const flights = createFlights<string>()
  const g = gate()
  const impatient = new AbortController()
  const first = flights.run('a', g.work, impatient.signal)
  const second = flights.run('a', g.work)
  impatient.abort(new Error('gave up'))
  await assert.rejects(first, /gave up/)
  g.open()
  assert.equal(await second, 'done')
  assert.equal(g.aborted, 0)
})

test('when every caller has aborted, the work is aborted and the next caller starts afresh', async () => {
  const flights = createFlights<string>()
  const g = gate()
  const callers = [new AbortController(), new AbortController()]
  const runs = callers.map((c) => flights.run('a', g.work, c.signal))
  for (const c of callers) c.abort(new Error('gone'))
  await Promise.all(runs.map((r) => assert.rejects(r, /gone/)))
  assert.equal(g.aborted, 1)
  const next = flights.run('a', g.work)
  assert.equal(g.runs, 2, 'a new run, not the aborted one')
  g.open()
  assert.equal(await next, 'done')
})
