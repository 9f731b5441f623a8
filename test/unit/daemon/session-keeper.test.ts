/**
 * The session keeper on the scriptable fake SAM bridge: a bridge that refuses is retried with backoff, a
 * session that closes is reopened at once (generation counts them), and stop ends the loop: no new session.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createSessionKeeper } from '../../../src/daemon/session-keeper.js'
import { silentLogger } from '../../../src/logger.js'
import { sleep } from '../../../src/signals.js'
import { startFakeSamBridge, steps, type BridgeScript } from '../../helpers/fake-sam-bridge.js'
import { OWN_KEYS } from '../../helpers/sam-session.js'

/** HELLO and SESSION CREATE answered OK; the control connection then stays open, or closes after `closeAfter` ms. */
const session = (closeAfter?: number): BridgeScript => [
  steps.hello(),
  steps.reply(/^SESSION CREATE STYLE=STREAM /, `SESSION STATUS RESULT=OK DESTINATION=${OWN_KEYS.privateKey}`),
  ...(closeAfter === undefined ? [] : [{ delay: closeAfter, close: true }]),
]

test('refused, then up; lost, then up again at once; stop ends it with no session left', async (t) => {
  // connection 0 is closed at once (the bridge is not ready), 1 holds a session 300 ms, 2 holds one
  const bridge = await startFakeSamBridge((i) =>
    i === 0 ? [{ close: true }] : i === 1 ? session(300) : session(),
  )
  t.after(() => bridge.close())
  const keeper = createSessionKeeper(() => ({ sam: bridge.address, destination: OWN_KEYS.privateKey }), {
    logger: silentLogger(),
  })
  t.after(() => keeper.stop())
  const ups: Array<{ attempt: number; at: number }> = []
  keeper.on('up', ({ attempt }) => ups.push({ attempt, at: Date.now() }))
  const t0 = Date.now()
  keeper.start()
  keeper.start()
  await once(keeper, 'up')
  assert.equal(keeper.state, 'up')
  const [first] = ups
  assert.ok(first)
  assert.equal(first.attempt, 1, 'one failed attempt before')
  assert.ok(first.at - t0 >= 450, 'after the first backoff step (500 ms)')
  const [down] = (await once(keeper, 'down')) as [{ upMs: number }]
  assert.ok(down.upMs >= 250, `was up ${down.upMs} ms`)
  await once(keeper, 'up')
  assert.equal(keeper.generation, 2)
  const second = ups[1]
  assert.ok(second)
  assert.equal(second.attempt, 0, 'reopened at once, no failure in between')
  assert.ok(second.at - first.at < 300 + 400, 'no backoff after a session that was up')
  await keeper.stop()
  assert.equal(keeper.state, 'stopped')
  assert.throws(() => keeper.session(), /stopped/)
  const connections = bridge.connections
  await sleep(700)
  assert.equal(bridge.connections, connections, 'nothing reopened after stop')
})

test('stop while the bridge refuses: the backoff wait ends at once', async (t) => {
  const bridge = await startFakeSamBridge(() => [{ close: true }])
  t.after(() => bridge.close())
  const keeper = createSessionKeeper(() => ({ sam: bridge.address, destination: OWN_KEYS.privateKey }), {
    logger: silentLogger(),
  })
  keeper.start()
  await sleep(100)
  const t0 = Date.now()
  await keeper.stop()
  assert.ok(Date.now() - t0 < 200, `stopped in ${Date.now() - t0} ms`)
  assert.equal(keeper.state, 'stopped')
})
