import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { createPathFilter, normalizeTarget, refuseAmbiguous } from '../../../src/proxy/allow-paths.js'

const badRequest = (err: unknown): boolean => isPRouterError(err, 'ERR_API_BAD_REQUEST')
const filter = createPathFilter(['/prpc/PhactoryAPI.GetInfo', '/public/*'])

/** What the inbound side does: normalise the target, then check its pathname. */
const allowed = (target: string): boolean => filter(normalizeTarget(target).pathname)

test('no allow list: every path passes', () => {
  const all = createPathFilter(undefined)
  assert.equal(all('/'), true)
  assert.equal(all('/admin'), true)
})

test('an exact path matches only itself', () => {
  assert.equal(filter('/prpc/PhactoryAPI.GetInfo'), true)
  assert.equal(filter('/prpc/PhactoryAPI.GetInfo/x'), false)
  assert.equal(filter('/prpc/PhactoryAPI.GetInf'), false)
  assert.equal(filter('/prpc/phactoryapi.getinfo'), false)
  assert.equal(filter('/prpc'), false)
})

test('a trailing * matches the prefix and everything under it', () => {
  assert.equal(filter('/public/'), true)
  assert.equal(filter('/public/a/b.txt'), true)
  assert.equal(filter('/public'), false)
  assert.equal(filter('/publicity'), false)
  assert.equal(filter('/admin'), false)
  assert.equal(createPathFilter([])('/'), false)
})

test('normalizeTarget resolves dot segments and keeps the query', () => {
  assert.deepEqual(normalizeTarget('/a/./b/../c?x=1&y=%20'), { pathname: '/a/c', search: '?x=1&y=%20' })
  assert.deepEqual(normalizeTarget('/public/../admin'), { pathname: '/admin', search: '' })
  assert.deepEqual(normalizeTarget('/public/%2e%2e/admin?q'), { pathname: '/admin', search: '?q' })
  assert.deepEqual(normalizeTarget('/public/%2E%2E/%2e/admin'), { pathname: '/admin', search: '' })
  assert.deepEqual(normalizeTarget('/../../etc/passwd'), { pathname: '/etc/passwd', search: '' })
  assert.deepEqual(normalizeTarget('/'), { pathname: '/', search: '' })
})

test('dot segments cannot climb out of an allowed prefix', () => {
  assert.equal(allowed('/public/a/../b'), true)
  assert.equal(allowed('/public/../admin'), false)
  assert.equal(allowed('/public/%2e%2e/admin'), false)
  assert.equal(allowed('/public/a/%2E%2E/%2e%2e/admin?x=/public/'), false)
  assert.equal(allowed('/public/./../prpc/PhactoryAPI.GetInfo'), true)
})

test('a target that is not an origin-form path: ERR_API_BAD_REQUEST', () => {
  for (const target of ['', 'public/a', 'http://evil/public/a', '*', '//evil/public/a', '//']) {
    assert.throws(() => normalizeTarget(target), badRequest, JSON.stringify(target))
  }
})

const ambiguous = (target: string): boolean => {
  try {
    refuseAmbiguous(target)
    return false
  } catch (err) {
    assert.ok(isPRouterError(err, 'ERR_PATH_AMBIGUOUS'), String(err))
    return true
  }
}

test('refuseAmbiguous: encoded / and \\ in any case', () => {
  for (const t of [
    '/public/..%2fadmin',
    '/public/..%2Fadmin',
    '/public/a%2fb',
    '/public/..%5cadmin',
    '/public/%5C',
  ]) {
    assert.equal(ambiguous(t), true, t)
  }
})

test('refuseAmbiguous: encoded or parameterised dot segments', () => {
  for (const t of [
    '/public/%2e%2e/admin',
    '/public/%2E%2E/admin',
    '/public/.%2e/admin',
    '/public/%2e./x',
    '/public/%2e/x',
    '/public/..;x/admin',
    '/public/.;/x',
    '/public/%2e%2e;/admin',
  ]) {
    assert.equal(ambiguous(t), true, t)
  }
})

test('refuseAmbiguous: raw backslash, //, NUL and controls, raw or encoded', () => {
  for (const t of [
    '/public\\..\\admin',
    '/public/a\\b',
    '/public//admin',
    '//public/a',
    '/public/a//',
    '/public/a%00.txt',
    '/public/a\u0000',
    '/public/%0d%0aX: y',
    '/public/%7f',
    '/public/a b',
    '/public/\t',
  ]) {
    assert.equal(ambiguous(t), true, JSON.stringify(t))
  }
})

test('refuseAmbiguous: double, malformed and non-UTF-8 percent-encoding', () => {
  for (const t of [
    '/public/..%252fadmin',
    '/public/%25',
    '/public/%2',
    '/public/%zz',
    '/public/%',
    '/public/%c0%af',
    '/public/%ff',
  ]) {
    assert.equal(ambiguous(t), true, t)
  }
})

test('refuseAmbiguous: plain paths, raw dot segments, ordinary escapes and any query pass', () => {
  for (const t of [
    '/',
    '/public/a/b.txt',
    '/public/a/../b',
    '/public/./x',
    '/public/%20x',
    '/public/caf%C3%A9',
    '/public/a..b',
    '/public/...',
    '/public/.well-known',
    '/prpc/PhactoryAPI.GetInfo?x=%2f&y=..%5c//',
    '/public/a;b=1',
  ]) {
    assert.equal(ambiguous(t), false, t)
  }
})
