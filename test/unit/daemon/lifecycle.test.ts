/**
 * src/lifecycle.ts: the orchestrator (start in order, stop the started ones in reverse, bounded, a failed
 * start stops what it started) and the one background loop (backoff after failures, stop aborts a round).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sleep } from '../../../src/signals.js'
import { isPRouterError } from '../../../src/errors.js'
import { createLifecycle, createLoop, type Part } from '../../../src/lifecycle.js'
import { silentLogger } from '../../../src/logger.js'

const logger = silentLogger()

/** A part that records its starts and stops in `log`. */
function part(log: string[], name: string, extra: Partial<Part> = {}): Part {
  return {
    name,
    start: () => {
      log.push(`start ${name}`)
    },
    stop: () => {
      log.push(`stop ${name}`)
    },
    ...extra,
  }
}

test('starts in order, stops in reverse; start and stop are idempotent', async () => {
  const log: string[] = []
  const lc = createLifecycle([part(log, 'a'), part(log, 'b'), part(log, 'c')], { logger })
  await lc.start()
  await lc.start()
  assert.deepEqual(lc.started, ['a', 'b', 'c'])
  await Promise.all([lc.stop(), lc.stop()])
  assert.deepEqual(log, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a'])
  assert.deepEqual(lc.started, [])
  await assert.rejects(lc.start(), (err: unknown) => isPRouterError(err, 'ERR_DAEMON_STOPPED'))
})

test('a part that fails to start: the started ones (and it) are stopped in reverse, the rest never start', async () => {
  const log: string[] = []
  const boom = new Error('port in use')
  const failing = part(log, 'b', {
    start: () => {
      log.push('start b')
      throw boom
    },
  })
  const lc = createLifecycle([part(log, 'a'), failing, part(log, 'c')], { logger })
  await assert.rejects(lc.start(), (err: unknown) => err === boom)
  assert.deepEqual(log, ['start a', 'start b', 'stop b', 'stop a'])
})

test('stop while starting aborts the part starting now, then stops what started', async () => {
  const log: string[] = []
  const slow = part(log, 'b', {
    start: async (signal) => {
      log.push('start b')
      await sleep(60_000, signal)
    },
  })
  const lc = createLifecycle([part(log, 'a'), slow, part(log, 'c')], { logger })
  const starting = lc.start()
  await sleep(20)
  await lc.stop()
  await assert.rejects(starting, (err: unknown) => isPRouterError(err, 'ERR_DAEMON_STOPPED'))
  assert.deepEqual(log, ['start a', 'start b', 'stop b', 'stop a'])
})

test("the caller's signal aborts a start with its own reason", async () => {
  const log: string[] = []
  const ac = new AbortController()
  const slow = part(log, 'a', { start: (signal) => sleep(60_000, signal) })
  const lc = createLifecycle([slow, part(log, 'b')], { logger })
  const starting = lc.start(ac.signal)
  ac.abort(new Error('SIGINT'))
  await assert.rejects(starting, /SIGINT/)
  assert.deepEqual(log, ['stop a'])
})

test('stop is bounded: a part that overruns its bound is destroyed and the next parts still stop', async () => {
  const log: string[] = []
  const stuck = part(log, 'b', {
    stop: () => new Promise<void>(() => undefined), // never ends
    stopTimeout: 50,
    destroy: () => {
      log.push('destroy b')
    },
  })
  const lc = createLifecycle([part(log, 'a'), stuck, part(log, 'c')], { logger })
  await lc.start()
  const t0 = Date.now()
  await lc.stop()
  const ms = Date.now() - t0
  assert.deepEqual(log.slice(3), ['stop c', 'destroy b', 'stop a'])
  assert.ok(ms >= 45 && ms < 1000, `stopped in ${ms} ms`)
})

test('the whole stop is bounded too: parts past the deadline get no time and are destroyed', async () => {
  const log: string[] = []
  const never = (name: string): Part =>
    part(log, name, {
      stop: () => new Promise<void>(() => undefined),
      destroy: () => {
        log.push(`destroy ${name}`)
      },
    })
  const lc = createLifecycle([never('a'), never('b'), never('c')], { logger }, { stopTimeout: 100 })
  await lc.start()
  const t0 = Date.now()
  await lc.stop()
  const ms = Date.now() - t0
  assert.deepEqual(log.slice(3), ['destroy c', 'destroy b', 'destroy a'])
  assert.ok(ms < 1000, `stopped in ${ms} ms, not 3 × 5 s`)
})

test('a stop that throws is logged and the others still stop', async () => {
  const log: string[] = []
  const bad = part(log, 'b', {
    stop: () => {
      throw new Error('close failed')
    },
  })
  const lc = createLifecycle([part(log, 'a'), bad], { logger })
  await lc.start()
  await lc.stop()
  assert.deepEqual(log.slice(2), ['stop a'])
})

test('loop: runs every interval, backs off after failures (capped), resets after a success', async () => {
  const at: number[] = []
  let calls = 0
  const loop = createLoop(
    {
      name: 'test',
      run: () => {
        at.push(Date.now())
        calls++
        return calls <= 4 ? Promise.reject(new Error('down')) : Promise.resolve()
      },
      every: 10,
      backoff: { min: 20, max: 80 },
      onError: () => undefined,
    },
    { logger },
  )
  loop.start()
  loop.start()
  for (let waited = 0; calls < 7 && waited < 5000; waited += 5) await sleep(5)
  await loop.stop()
  const gaps = at.slice(1).map((t, i) => t - (at[i] ?? t))
  // after failures 1..4: 20, 40, 80, 80 (capped); after the successes: 10
  const want = [20, 40, 80, 80, 10, 10]
  want.forEach((ms, i) => {
    const got = gaps[i] ?? 0
    assert.ok(got >= ms - 2 && got < ms + 60, `wait ${i + 1}: ${got} ms, expected about ${ms} ms`)
  })
  assert.equal(loop.running, false)
})

test('loop: stop aborts the round under way with ERR_DAEMON_STOPPED and no round runs after', async () => {
  let reason: unknown
  let rounds = 0
  const loop = createLoop(
    {
      name: 'test',
      run: async (signal) => {
        rounds++
        await sleep(60_000, signal).catch(() => {
          reason = signal.reason
        })
      },
      every: 1,
      backoff: { min: 1, max: 1 },
    },
    { logger },
  )
  loop.start()
  await sleep(20)
  await loop.stop()
  assert.ok(isPRouterError(reason, 'ERR_DAEMON_STOPPED'))
  await sleep(20)
  assert.equal(rounds, 1)
})

test('loop: delayFirst waits one interval before the first round', async () => {
  let rounds = 0
  const loop = createLoop(
    {
      name: 'test',
      run: () => {
        rounds++
        return Promise.resolve()
      },
      every: 60_000,
      backoff: { min: 1, max: 1 },
      delayFirst: true,
    },
    { logger },
  )
  loop.start()
  await sleep(30)
  assert.equal(rounds, 0)
  await loop.stop()
})
