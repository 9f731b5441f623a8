import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readRouterInfo } from '../../../src/i2p/index.js'
import type { RouterInfo } from '../../../src/i2p/index.js'
import {
  checkRoom,
  checkRouterInfo,
  DEFAULT_ROUTER_INFO_RULES,
  routerInfoRules,
} from '../../../src/registry/router-info-rules.js'
import { isPRouterError } from '../../../src/errors.js'
import { buildRouterInfo, fixture, testRouterKey } from '../../helpers/router-info.js'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE
const floodfill = readRouterInfo(fixture('floodfill'))
const at = floodfill.published + MINUTE

function codeOf(fn: () => unknown): string {
  try {
    return String(fn())
  } catch (err) {
    assert.ok(isPRouterError(err), String(err))
    return err.code
  }
}

function synthetic(published: number, options?: Record<string, string>, host = true): RouterInfo {
  const where: Record<string, string> = host ? { host: '127.0.0.1' } : { v: '2' }
  const addresses = [{ transport: 'NTCP2', cost: 3, options: where }]
  return readRouterInfo(buildRouterInfo({ key: testRouterKey(), published, addresses, options }))
}

test('defaults: 7 days, 10 minutes of skew, 2000 routers, any network', () => {
  assert.deepEqual(DEFAULT_ROUTER_INFO_RULES, { maxAgeMs: 7 * DAY, maxSkewMs: 10 * MINUTE, maxRouters: 2000 })
})

test('the fixtures: floodfill and reachable are stored, the unreachable router is useless', () => {
  assert.equal(checkRouterInfo(floodfill, undefined, at), 'store')
  assert.equal(checkRouterInfo(readRouterInfo(fixture('reachable')), undefined, at), 'store')
  const unreachable = readRouterInfo(fixture('unreachable'))
  assert.equal(
    codeOf(() => checkRouterInfo(unreachable, undefined, at)),
    'ERR_ROUTER_INFO_UNREACHABLE',
  )
})

test('a floodfill without a host is kept (routers reach it through others); no host and no f is not', () => {
  const now = Date.now()
  assert.equal(checkRouterInfo(synthetic(now, { caps: 'f' }, false), undefined, now), 'store')
  const neither = synthetic(now, { caps: 'LR' }, false)
  assert.equal(
    codeOf(() => checkRouterInfo(neither, undefined, now)),
    'ERR_ROUTER_INFO_UNREACHABLE',
  )
})

test('published at most 10 min ahead and at most 7 days ago, bounds included', () => {
  const p = floodfill.published
  assert.equal(checkRouterInfo(floodfill, undefined, p - 10 * MINUTE), 'store')
  assert.equal(
    codeOf(() => checkRouterInfo(floodfill, undefined, p - 10 * MINUTE - 1)),
    'ERR_ROUTER_INFO_FUTURE',
  )
  assert.equal(checkRouterInfo(floodfill, undefined, p + 7 * DAY), 'store')
  assert.equal(
    codeOf(() => checkRouterInfo(floodfill, undefined, p + 7 * DAY + 1)),
    'ERR_ROUTER_INFO_EXPIRED',
  )
  const rules = { ...DEFAULT_ROUTER_INFO_RULES, maxAgeMs: MINUTE, maxSkewMs: 0 }
  assert.equal(
    codeOf(() => checkRouterInfo(floodfill, undefined, p + MINUTE + 1, rules)),
    'ERR_ROUTER_INFO_EXPIRED',
  )
  assert.equal(
    codeOf(() => checkRouterInfo(floodfill, undefined, p - 1, rules)),
    'ERR_ROUTER_INFO_FUTURE',
  )
})

test('only a strictly newer RouterInfo replaces the held one; the same bytes are unchanged', () => {
  const held = { published: floodfill.published, bytes: floodfill.bytes }
  assert.equal(checkRouterInfo(floodfill, held, at), 'unchanged')
  const older = { published: held.published - 1, bytes: new Uint8Array(10) }
  assert.equal(checkRouterInfo(floodfill, older, at), 'store')
  const otherBytes = { published: held.published, bytes: new Uint8Array(10) }
  assert.equal(
    codeOf(() => checkRouterInfo(floodfill, otherBytes, at)),
    'ERR_ROUTER_INFO_REPLAYED',
  )
  const newer = { published: held.published + 1, bytes: new Uint8Array(10) }
  assert.throws(() => checkRouterInfo(floodfill, newer, at), /published at .*, not older than/)
})

test('a netId restriction refuses other networks; none accepts any', () => {
  const on77 = { ...DEFAULT_ROUTER_INFO_RULES, netId: 77 }
  assert.equal(checkRouterInfo(floodfill, undefined, at, on77), 'store')
  const on2 = { ...DEFAULT_ROUTER_INFO_RULES, netId: 2 }
  assert.equal(
    codeOf(() => checkRouterInfo(floodfill, undefined, at, on2)),
    'ERR_ROUTER_INFO_NETID',
  )
  assert.throws(() => checkRouterInfo(floodfill, undefined, at, on2), /is on network 77; .* network 2 only/)
})

test('room: refused at the limit', () => {
  const rules = { ...DEFAULT_ROUTER_INFO_RULES, maxRouters: 2 }
  checkRoom(1, rules)
  const full = () => {
    checkRoom(2, rules)
  }
  assert.equal(codeOf(full), 'ERR_REGISTRY_FULL')
})

test('rule options are checked and named', () => {
  assert.deepEqual(routerInfoRules({ netId: 77 }), { ...DEFAULT_ROUTER_INFO_RULES, netId: 77 })
  for (const [option, value] of [
    ['maxRouters', 0],
    ['maxAgeMs', -1],
    ['maxSkewMs', 1.5],
    ['netId', 0],
  ] as const) {
    assert.throws(
      () => routerInfoRules({ [option]: value }),
      (err) => isPRouterError(err, 'ERR_INVALID_OPTION') && err.message.includes(`routerInfoRules.${option}`),
    )
  }
})
