/** Gaps of a period: clipped to it, merged when the same cause continues, never overlapping; countedMs. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { addGap, countedMs } from '../../../src/metering/gaps.js'
import type { UsageGap } from '../../../src/metering/report.js'

const period = { start: 1000, end: 2000 }

function gapsOf(...added: UsageGap[]): UsageGap[] {
  const gaps: UsageGap[] = []
  for (const g of added) addGap(gaps, g, period)
  return gaps
}

test('a gap is clipped to the period', () => {
  assert.deepEqual(gapsOf({ start: 500, end: 1200, cause: 'daemon-down' }), [
    { start: 1000, end: 1200, cause: 'daemon-down' },
  ])
  assert.deepEqual(gapsOf({ start: 1900, end: 5000, cause: 'router-restart' }), [
    { start: 1900, end: 2000, cause: 'router-restart' },
  ])
  assert.deepEqual(gapsOf({ start: 0, end: 9000, cause: 'router-unreachable' }), [
    { start: 1000, end: 2000, cause: 'router-unreachable' },
  ])
})

test('a gap outside the period, or empty, is not kept', () => {
  assert.deepEqual(
    gapsOf(
      { start: 0, end: 1000, cause: 'daemon-down' },
      { start: 2000, end: 2500, cause: 'daemon-down' },
      { start: 1500, end: 1500, cause: 'daemon-down' },
      { start: 1600, end: 1550, cause: 'daemon-down' },
    ),
    [],
  )
})

test('adjacent or overlapping gaps of the same cause merge into one', () => {
  assert.deepEqual(
    gapsOf(
      { start: 1100, end: 1200, cause: 'router-unreachable' },
      { start: 1200, end: 1300, cause: 'router-unreachable' },
      { start: 1250, end: 1400, cause: 'router-unreachable' },
    ),
    [{ start: 1100, end: 1400, cause: 'router-unreachable' }],
  )
})

test('gaps of the same cause with time counted between them stay apart', () => {
  assert.deepEqual(
    gapsOf(
      { start: 1100, end: 1200, cause: 'daemon-down' },
      { start: 1300, end: 1400, cause: 'daemon-down' },
    ),
    [
      { start: 1100, end: 1200, cause: 'daemon-down' },
      { start: 1300, end: 1400, cause: 'daemon-down' },
    ],
  )
})

test('an overlapping gap of another cause starts where the previous one ends: no overlap', () => {
  const gaps = gapsOf(
    { start: 1100, end: 1300, cause: 'daemon-down' },
    { start: 1200, end: 1500, cause: 'router-restart' },
    { start: 1250, end: 1450, cause: 'router-unreachable' }, // wholly inside the others: nothing left
  )
  assert.deepEqual(gaps, [
    { start: 1100, end: 1300, cause: 'daemon-down' },
    { start: 1300, end: 1500, cause: 'router-restart' },
  ])
  for (let i = 1; i < gaps.length; i++) {
    assert.ok((gaps[i - 1] as UsageGap).end <= (gaps[i] as UsageGap).start, 'sorted, never overlapping')
  }
})

test('countedMs is the period less its gaps', () => {
  assert.equal(countedMs(period, []), 1000)
  const gaps = gapsOf(
    { start: 0, end: 1100, cause: 'daemon-down' },
    { start: 1500, end: 1600, cause: 'router-restart' },
    { start: 1550, end: 1700, cause: 'router-unreachable' },
  )
  assert.equal(countedMs(period, gaps), 1000 - 100 - 100 - 100)
  assert.equal(countedMs(period, gapsOf({ start: 0, end: 9999, cause: 'daemon-down' })), 0)
})
