import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLogLine } from '../../../src/router/log-line.js'
import { backoffDelay } from '../../../src/backoff.js'

test('i2pd log lines lose their colour codes and keep their level', () => {
  const line = "06:52:35@127/\u001b[1;31merror\u001b[0m - Tunnels: Can't create inbound tunnel"
  assert.deepEqual(parseLogLine(line), { level: 'error', message: "Tunnels: Can't create inbound tunnel" })
  assert.deepEqual(parseLogLine('not an i2pd line'), { level: 'info', message: 'not an i2pd line' })
})

test('restart backoff doubles and is capped', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((a) => backoffDelay(a, 1000, 5000)),
    [1000, 2000, 4000, 5000, 5000],
  )
})

test('errors i2pd logs in normal operation are demoted', () => {
  assert.equal(parseLogLine('06:52:35@1/error - I2PControl: RouterInfo unknown request Token').level, 'info')
  assert.equal(parseLogLine('06:52:35@1/error - Tunnels: Cannot build').level, 'error')
})
