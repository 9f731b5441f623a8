/** selectForReseed: which verified RouterInfos go into a reseed bundle, and in which order. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readRouterInfo } from '../../../src/i2p/index.js'
import type { RouterInfo } from '../../../src/i2p/index.js'
import { selectForReseed } from '../../../src/reseed/select.js'
import { fixture } from '../../helpers/router-info.js'

const FLOODFILL = readRouterInfo(fixture('floodfill'))
const REACHABLE = readRouterInfo(fixture('reachable'))
const UNREACHABLE = readRouterInfo(fixture('unreachable'))

/** A RouterInfo with only what selection looks at. */
function info(id: string, o: Partial<RouterInfo> = {}): RouterInfo {
  return { id, netId: 77, published: 1000, floodfill: false, reachable: true, ...o } as RouterInfo
}

const ids = (list: readonly RouterInfo[]) => list.map((ri) => ri.id)

test("i2pd's RouterInfos: floodfill first, then the reachable router; the unreachable one is dropped", () => {
  const chosen = selectForReseed([UNREACHABLE, REACHABLE, FLOODFILL], { netId: 77, max: 75 })
  assert.deepEqual(ids(chosen), [FLOODFILL.id, REACHABLE.id])
})

test('only the given network', () => {
  assert.deepEqual(selectForReseed([FLOODFILL, REACHABLE], { netId: 2, max: 75 }), [])
  const list = [info('a', { netId: 2 }), info('b'), info('c', { netId: 78 })]
  assert.deepEqual(ids(selectForReseed(list, { netId: 77, max: 75 })), ['b'])
  assert.deepEqual(ids(selectForReseed(list, { netId: 2, max: 75 })), ['a'])
})

test('usable: a floodfill without a host is kept, a router with neither is dropped', () => {
  const list = [
    info('neither', { reachable: false }),
    info('floodfill-only', { floodfill: true, reachable: false }),
    info('reachable-only'),
  ]
  assert.deepEqual(ids(selectForReseed(list, { netId: 77, max: 75 })), ['floodfill-only', 'reachable-only'])
})

test('floodfills first, each group newest first', () => {
  const list = [
    info('r-old', { published: 100 }),
    info('f-old', { floodfill: true, published: 100 }),
    info('r-new', { published: 300 }),
    info('f-new', { floodfill: true, published: 200 }),
    info('r-mid', { published: 200 }),
  ]
  assert.deepEqual(ids(selectForReseed(list, { netId: 77, max: 75 })), [
    'f-new',
    'f-old',
    'r-new',
    'r-mid',
    'r-old',
  ])
})

test('max cuts after ordering: floodfills are the last to go', () => {
  const list = [
    info('r1', { published: 900 }),
    info('f1', { floodfill: true }),
    info('r2', { published: 800 }),
  ]
  assert.deepEqual(ids(selectForReseed(list, { netId: 77, max: 1 })), ['f1'])
  assert.deepEqual(ids(selectForReseed(list, { netId: 77, max: 2 })), ['f1', 'r1'])
  assert.deepEqual(ids(selectForReseed(list, { netId: 77, max: 10 })), ['f1', 'r1', 'r2'])
})

test('exclude leaves out the router being reseeded', () => {
  const chosen = selectForReseed([FLOODFILL, REACHABLE], { netId: 77, max: 75, exclude: FLOODFILL.id })
  assert.deepEqual(ids(chosen), [REACHABLE.id])
})

test('notBefore drops older RouterInfos; one published exactly then is kept', () => {
  const list = [
    info('old', { published: 99 }),
    info('edge', { published: 100 }),
    info('new', { published: 101 }),
  ]
  assert.deepEqual(ids(selectForReseed(list, { netId: 77, max: 75, notBefore: 100 })), ['new', 'edge'])
})

test('the input is left as it was', () => {
  const list = [info('r'), info('f', { floodfill: true })]
  selectForReseed(list, { netId: 77, max: 1 })
  assert.deepEqual(ids(list), ['r', 'f'])
})
