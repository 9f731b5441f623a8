import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planRouters, routerConfig } from '../../../src/testnet/plan.js'
import { loopbackPrefix } from '../../../src/testnet/ports.js'
import { renderI2pdConf } from '../../../src/router/config.js'

test('each router gets its own loopback address and roles as asked', async () => {
  const plan = await planRouters({ dir: '/tmp/plan-a', routers: 5, floodfills: 2, unreachable: 1 })
  assert.equal(new Set(plan.map((r) => r.host)).size, 5)
  assert.deepEqual(
    plan.map((r) => [r.floodfill, r.reachable]),
    [
      [true, true],
      [true, true],
      [false, true],
      [false, true],
      [false, false],
    ],
  )
  for (const r of plan) assert.match(r.host, /^127\.\d+\.\d+\.\d+$/)
  assert.notEqual(plan[0]?.i2pcontrol.password, plan[1]?.i2pcontrol.password)
})

test('testnets in different folders use different address blocks; the same folder the same', () => {
  assert.equal(loopbackPrefix('/tmp/a'), loopbackPrefix('/tmp/a'))
  assert.notEqual(loopbackPrefix('/tmp/a'), loopbackPrefix('/tmp/b'))
})

test('an unreachable router publishes nothing; the testnet never talks to the public network', async () => {
  const [, , , , hidden] = await planRouters({
    dir: '/tmp/plan-b',
    routers: 5,
    floodfills: 2,
    unreachable: 1,
  })
  assert.ok(hidden)
  const conf = renderI2pdConf(routerConfig(hidden, 77, { urls: [], verify: false, threshold: 5 }))
  assert.match(conf, /\[ntcp2\]\nenabled = true\npublished = false/)
  assert.match(conf, /^netid = 77$/m)
  assert.match(conf, /^urls = $/m)
  assert.match(conf, /\[upnp\]\nenabled = false/)
})
