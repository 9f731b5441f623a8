/** Report periods are aligned to the epoch, so every worker's periods share their edges. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { periodOf } from '../../../src/metering/period.js'

const MINUTE = 60_000
const TEN = 10 * MINUTE

test('the period holding an instant starts at a multiple of its length', () => {
  const at = Date.UTC(2025, 11, 3, 10, 17, 42, 123)
  assert.deepEqual(periodOf(at, TEN), {
    start: Date.UTC(2025, 11, 3, 10, 10),
    end: Date.UTC(2025, 11, 3, 10, 20),
  })
  assert.equal(periodOf(at, TEN).start % TEN, 0)
})

test('the start is inside its period, the end is the next period`s start', () => {
  const start = Date.UTC(2025, 11, 3, 10, 20)
  assert.deepEqual(periodOf(start, TEN), { start, end: start + TEN })
  assert.deepEqual(periodOf(start - 1, TEN), { start: start - TEN, end: start })
  assert.deepEqual(periodOf(start + TEN - 1, TEN), { start, end: start + TEN })
})

test('two workers with the same length share edges whenever they look', () => {
  const a = periodOf(1_764_756_123_456, TEN)
  const b = periodOf(1_764_756_599_999, TEN)
  assert.deepEqual(a, b)
  assert.deepEqual(periodOf(a.end, TEN).start, a.end, 'the next period starts where this one ends')
})

test('a day-long period starts at midnight UTC', () => {
  const day = 24 * 60 * MINUTE
  const at = Date.UTC(2025, 0, 15, 23, 59, 59)
  assert.deepEqual(periodOf(at, day), { start: Date.UTC(2025, 0, 15), end: Date.UTC(2025, 0, 16) })
})
