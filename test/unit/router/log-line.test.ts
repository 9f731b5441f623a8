import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLogLine } from '../../../src/router/log-line.js'
import { backoffDelay } from '../../../src/router/backoff.js'

test('i2pd log lines lose their colour codes and keep their level', () => {
  const line = '06:52:35@127/\u001b[1;31merror\u001b[0m - SAM: Accept error: Operation canceled'
  assert.deepEqual(parseLogLine(line), { level: 'error', message: 'SAM: Accept error: Operation canceled' })
  assert.deepEqual(parseLogLine('not an i2pd line'), { level: 'info', message: 'not an i2pd line' })
})

test('restart backoff doubles and is capped', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((a) => backoffDelay(a, 1000, 5000)),
    [1000, 2000, 4000, 5000, 5000],
  )
})
