import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { ERROR_CODES, PRouterError, isPRouterError } from '../../src/errors.js'

test('every error code is documented in docs/errors.md, and nothing else is', async () => {
  const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  const documented = new Set([...doc.matchAll(/`(ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]))
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort())
})

test('PRouterError keeps code, cause and detail', () => {
  const cause = new Error('socket hang up')
  const err = new PRouterError('ERR_SAM_CLOSED', 'closed', { cause, detail: { pid: 1 } })
  assert.ok(isPRouterError(err, 'ERR_SAM_CLOSED'))
  assert.equal(isPRouterError(err, 'ERR_SAM_TIMEOUT'), false)
  assert.equal(err.cause, cause)
  assert.deepEqual(err.detail, { pid: 1 })
})
