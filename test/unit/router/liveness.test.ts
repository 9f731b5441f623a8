/**
 * The router link's liveness probe against a real loopback SAM bridge (scripted): an answering bridge is
 * responsive, a bridge that accepts but never answers (as a SIGSTOPped i2pd does) turns it unresponsive
 * within one interval plus one deadline, and answering again turns it back.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createRouterLiveness, type RouterHealth } from '../../../src/daemon/router-liveness.js'
import { silentLogger } from '../../../src/logger.js'
import { startFakeSamBridge, type BridgeScript } from '../../helpers/fake-sam-bridge.js'

const HELLO: BridgeScript = [{ expect: /^HELLO VERSION/, send: ['HELLO REPLY RESULT=OK VERSION=3.1'] }]
const SILENT: BridgeScript = [{ expect: /^HELLO VERSION/, delay: 1500 }]

test('a bridge that stops answering turns the router unresponsive, and back when it answers', async (t) => {
  let hung = false
  const bridge = await startFakeSamBridge(() => (hung ? SILENT : HELLO))
  t.after(() => bridge.close())
  const liveness = createRouterLiveness(
    { sam: bridge.address, interval: 100, timeout: 300 },
    { logger: silentLogger() },
  )
  t.after(() => {
    liveness.stop()
  })
  const changes: RouterHealth[] = []
  liveness.on('change', (h) => changes.push(h))
  liveness.start()
  liveness.start() // idempotent
  await new Promise((resolve) => setTimeout(resolve, 350))
  assert.equal(liveness.health().responsive, true)
  assert.ok(bridge.connections >= 2, 'probed every interval')
  assert.equal(changes.length, 0)

  hung = true
  const hungAt = Date.now()
  const [down] = (await once(liveness, 'change')) as [RouterHealth]
  const detectMs = Date.now() - hungAt
  assert.equal(down.responsive, false)
  assert.match(down.error ?? '', /^ERR_ROUTER_UNRESPONSIVE: .*within 300 ms/)
  assert.ok(detectMs <= 100 + 300 + 300 + 200, `detected in ${detectMs} ms`)
  assert.deepEqual(liveness.health(), down)

  hung = false
  const [up] = (await once(liveness, 'change')) as [RouterHealth]
  assert.equal(up.responsive, true)
  assert.equal(up.error, undefined)
  assert.ok(up.since >= down.since)
  assert.equal(changes.length, 2)
})

test('stop() ends the probes: no connection after it', async (t) => {
  const bridge = await startFakeSamBridge(() => HELLO)
  t.after(() => bridge.close())
  const liveness = createRouterLiveness(
    { sam: bridge.address, interval: 50, timeout: 300 },
    { logger: silentLogger() },
  )
  liveness.start()
  await new Promise((resolve) => setTimeout(resolve, 200))
  liveness.stop()
  await new Promise((resolve) => setTimeout(resolve, 100)) // a probe in flight may still connect
  const seen = bridge.connections
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(bridge.connections, seen)
})
