import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isListenerFailure, parseLogLine } from '../../../src/router/log-line.js'
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

test('a listener i2pd could not open is told apart from its other critical lines', () => {
  const failed = [
    '20:41:02@5/critical - Daemon: Failed to start I2PControl: bind: Address already in use',
    '20:41:02@5/critical - Daemon: Failed to start Webconsole: bind: Address already in use',
    '20:41:02@5/critical - Clients: Exception in SAM bridge: bind: Address already in use',
    '20:41:02@5/critical - NTCP2: Failed to bind to v4 port 39173bind: Address already in use',
  ]
  for (const line of failed) assert.equal(isListenerFailure(parseLogLine(line)), true, line)
  const others = [
    '20:41:02@5/critical - Reseed: SU3 verification failed',
    '20:41:02@5/error - Daemon: Failed to start I2PControl: bind: Address already in use',
    'Daemon: Failed to start I2PControl: bind: Address already in use',
  ]
  for (const line of others) assert.equal(isListenerFailure(parseLogLine(line)), false, line)
})
