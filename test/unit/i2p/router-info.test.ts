import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { encodeI2pBase64, MAX_ROUTER_INFO_BYTES, readRouterInfo } from '../../../src/i2p/index.js'
import { isPRouterError } from '../../../src/errors.js'
import type { FixtureRole } from '../../helpers/router-info.js'
import {
  buildRouterInfo,
  fixture,
  i2pString,
  mapping,
  netDbNames,
  testRouterKey,
} from '../../helpers/router-info.js'

const ROLES: FixtureRole[] = ['floodfill', 'reachable', 'unreachable']
const IDENTITY_BYTES = 391 // 384 key fields + KEY certificate of 4 bytes (Ed25519 + X25519)
const SIGNATURE_BYTES = 64

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    assert.ok(isPRouterError(err), String(err))
    return err.code
  }
  return 'accepted'
}

test('i2pd 2.56 RouterInfos parse; the id is what i2pd names them by in its netDb', () => {
  const names = netDbNames()
  for (const role of ROLES) {
    const bytes = fixture(role)
    const info = readRouterInfo(bytes)
    const hash = createHash('sha256').update(bytes.subarray(0, IDENTITY_BYTES)).digest()
    assert.deepEqual(Buffer.from(info.hash), hash, role)
    assert.equal(info.id, encodeI2pBase64(hash))
    assert.equal(info.id.length, 44)
    assert.equal(names[role].file, `routerInfo-${info.id}.dat`, `${role}: i2pd ${names[role].seenBy}'s netDb`)
    assert.deepEqual(Buffer.from(info.bytes), bytes)
    assert.equal([info.netId, info.version, info.options.netId].join(' '), '77 0.9.65 77')
    assert.ok(Math.abs(info.published - Date.parse('2026-12-03T08:02:10Z')) < 60_000, role)
  }
})

test('the floodfill publishes an NTCP2 host and caps f; the unreachable router neither', () => {
  const floodfill = readRouterInfo(fixture('floodfill'))
  assert.deepEqual([floodfill.caps, floodfill.floodfill, floodfill.reachable], ['Xf', true, true])
  const [ntcp2] = floodfill.addresses
  assert.equal(ntcp2?.transport, 'NTCP2')
  assert.match(ntcp2.options.host ?? '', /^127\.\d+\.\d+\.11$/)
  assert.match(ntcp2.options.port ?? '', /^\d+$/)
  const reachable = readRouterInfo(fixture('reachable'))
  assert.deepEqual([reachable.caps, reachable.floodfill, reachable.reachable], ['X', false, true])
  const unreachable = readRouterInfo(fixture('unreachable'))
  assert.deepEqual([unreachable.caps, unreachable.floodfill, unreachable.reachable], ['X', false, false])
  assert.deepEqual(
    unreachable.addresses.map((a) => [a.transport, a.options.host]),
    [['NTCP2', undefined]],
  )
})

test('every single-byte flip is refused: in the signed part and in the signature', () => {
  for (const role of ROLES) {
    const bytes = fixture(role)
    const signatureAt = bytes.length - SIGNATURE_BYTES
    for (let at = 0; at < bytes.length; at++) {
      for (const mask of [0x01, 0x80]) {
        const flipped = Buffer.from(bytes)
        flipped[at] = (flipped[at] ?? 0) ^ mask
        const code = codeOf(() => readRouterInfo(flipped))
        if (at >= signatureAt) assert.equal(code, 'ERR_ROUTER_INFO_SIGNATURE', `${role} byte ${at}`)
        else {
          // the key certificate's signing type bytes may turn into an unsupported type
          const allowed = [
            'ERR_ROUTER_INFO_SIGNATURE',
            'ERR_ROUTER_INFO_MALFORMED',
            'ERR_ROUTER_INFO_UNSUPPORTED',
          ]
          assert.ok(allowed.includes(code), `${role} byte ${at} ^ ${mask}: ${code}`)
        }
      }
    }
  }
})

test('a RouterInfo cut short anywhere is ERR_ROUTER_INFO_MALFORMED, naming the offset', () => {
  for (const role of ROLES) {
    const bytes = fixture(role)
    for (let length = 0; length < bytes.length; length++) {
      assert.equal(
        codeOf(() => readRouterInfo(bytes.subarray(0, length))),
        'ERR_ROUTER_INFO_MALFORMED',
      )
    }
  }
  assert.throws(
    () => readRouterInfo(fixture('floodfill').subarray(0, 500)),
    /router info: .* at offset \d+, \d+ left/,
  )
})

test('trailing bytes after the signature and oversized input are malformed', () => {
  const bytes = fixture('floodfill')
  assert.throws(() => readRouterInfo(Buffer.concat([bytes, Buffer.from([0])])), /1 trailing bytes/)
  const oversized = Buffer.concat([bytes, Buffer.alloc(MAX_ROUTER_INFO_BYTES + 1 - bytes.length)])
  assert.throws(
    () => readRouterInfo(oversized),
    (err) => {
      assert.ok(isPRouterError(err, 'ERR_ROUTER_INFO_MALFORMED'))
      assert.match(err.message, /3073 bytes, more than the 3072/)
      return true
    },
  )
})

test('a synthetic RouterInfo round-trips its fields; absent netId is 2 and absent caps empty', () => {
  const key = testRouterKey()
  const published = Date.UTC(2026, 0, 1)
  const info = readRouterInfo(buildRouterInfo({ key, published, options: { 'router.version': '0.9.99' } }))
  assert.deepEqual(
    [info.published, info.netId, info.caps, info.floodfill, info.reachable, info.version],
    [published, 2, '', false, true, '0.9.99'],
  )
  assert.deepEqual(info.addresses, [
    { transport: 'NTCP2', cost: 3, options: { host: '127.0.0.1', port: '12345', v: '2' } },
  ])
  const biggest = buildRouterInfo({ key, published, options: { pad: 'x'.repeat(255), caps: 'f' } })
  assert.ok(biggest.length < MAX_ROUTER_INFO_BYTES)
  assert.equal(readRouterInfo(biggest).options.pad?.length, 255)
})

test('a key "__proto__" in a Mapping is an ordinary key', () => {
  const info = readRouterInfo(
    buildRouterInfo({ key: testRouterKey(), published: 1, options: { ['__proto__']: 'x', caps: 'f' } }),
  )
  assert.equal(Object.getPrototypeOf(info.options), Object.prototype)
  assert.equal(Object.getOwnPropertyDescriptor(info.options, '__proto__')?.value, 'x')
})

test('signing types other than Ed25519 are ERR_ROUTER_INFO_UNSUPPORTED', () => {
  const key = testRouterKey()
  for (const signingType of [0, 1, 3, 8, 11]) {
    const bytes = buildRouterInfo({ key, published: 1, signingType })
    assert.equal(
      codeOf(() => readRouterInfo(bytes)),
      'ERR_ROUTER_INFO_UNSUPPORTED',
      String(signingType),
    )
  }
  const nullCertificate = fixture('floodfill')
  nullCertificate.writeUInt8(0, 384) // NULL certificate: DSA-SHA1
  assert.equal(
    codeOf(() => readRouterInfo(nullCertificate)),
    'ERR_ROUTER_INFO_UNSUPPORTED',
  )
})

test('bad Mappings under a good signature are malformed', () => {
  const key = testRouterKey()
  const entry = (k: string, v: string, eq = '=', end = ';') =>
    Buffer.concat([i2pString(k), Buffer.from(eq), i2pString(v), Buffer.from(end)])
  const sized = (body: Buffer) => Buffer.concat([Buffer.from([body.length >> 8, body.length & 0xff]), body])
  const cases: Array<[string, Buffer, RegExp]> = [
    ['duplicate key', sized(Buffer.concat([entry('caps', 'f'), entry('caps', 'R')])), /repeats key "caps"/],
    ['no =', sized(entry('caps', 'f', ':')), /'=' after options key "caps" expected/],
    ['no ;', sized(entry('caps', 'f', '=', ',')), /';' after options value of "caps" expected/],
    [
      'split entry',
      sized(entry('caps', 'f').subarray(0, 5)),
      /'=' after options key "caps" needs 1 bytes at offset \d+, 0 left/,
    ],
    ['not UTF-8', sized(entry('caps', 'f').fill(0xff, 1, 3)), /options key at offset \d+ is not UTF-8/],
    ['netId not a number', mapping({ caps: 'f', netId: 'seventy' }), /netId "seventy" is not a number/],
  ]
  for (const [what, rawOptions, message] of cases) {
    const bytes = buildRouterInfo({ key, published: 1, rawOptions })
    assert.throws(
      () => readRouterInfo(bytes),
      (err) => isPRouterError(err, 'ERR_ROUTER_INFO_MALFORMED'),
      what,
    )
    assert.throws(() => readRouterInfo(bytes), message, what)
  }
})

test('a RouterInfo signed by another key than its identity names is ERR_ROUTER_INFO_SIGNATURE', () => {
  const [a, b] = [testRouterKey(), testRouterKey()]
  const good = buildRouterInfo({ key: a, published: 1 })
  const mixed = buildRouterInfo({ key: { publicKey: a.publicKey, privateKey: b.privateKey }, published: 1 })
  assert.equal(
    codeOf(() => readRouterInfo(good)),
    'accepted',
  )
  assert.equal(
    codeOf(() => readRouterInfo(mixed)),
    'ERR_ROUTER_INFO_SIGNATURE',
  )
})
