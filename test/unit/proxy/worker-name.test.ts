import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPRouterError } from '../../../src/errors.js'
import { workerHost, workerKeyFromHost, workerKeyFromName } from '../../../src/proxy/worker-name.js'
import { ALICE, BOB } from '../../helpers/identity-vectors.js'

const badKey = (err: unknown): boolean => isPRouterError(err, 'ERR_INVALID_WORKER_KEY')
const KEYS = [
  `0x${'00'.repeat(32)}`,
  `0x${'ff'.repeat(32)}`,
  `0x${ALICE}`,
  `0x${BOB}`,
  `0x${'0123456789abcdef'.repeat(4)}`,
]

test('hex names, with or without 0x, in any case, give the lower-case 0x key', () => {
  for (const key of KEYS) {
    const hex = key.slice(2)
    for (const name of [key, hex, hex.toUpperCase(), `0X${hex.toUpperCase()}`]) {
      assert.equal(workerKeyFromName(name), key, name)
      assert.equal(workerKeyFromHost(`${name}.prouter`), key, name)
      assert.equal(workerKeyFromHost(`${name}.PROUTER`), key, name)
    }
  }
})

test('the base32 host of a key is 52 DNS-safe characters and names the same key', () => {
  for (const key of KEYS) {
    const host = workerHost(key)
    assert.match(host, /^[a-z2-7]{51}[aq]\.prouter$/)
    assert.equal(workerKeyFromHost(host), key)
    assert.equal(workerKeyFromHost(host.toUpperCase()), key)
    assert.equal(workerKeyFromName(host.slice(0, -'.prouter'.length)), key)
  }
})

test('the base32 form of the all-zero and all-0xff keys', () => {
  assert.equal(workerHost(`0x${'00'.repeat(32)}`), `${'a'.repeat(52)}.prouter`)
  assert.equal(workerHost(`0x${'ff'.repeat(32)}`), `${'7'.repeat(51)}q.prouter`)
})

test('a port suffix is ignored, and surrounding blanks too', () => {
  const key = `0x${ALICE}`
  assert.equal(workerKeyFromHost(`${key}.prouter:80`), key)
  assert.equal(workerKeyFromHost(`${workerHost(key)}:65535`), key)
  assert.equal(workerKeyFromHost(`  ${ALICE}.prouter:8080 `), key)
})

test('names that are not a worker key: ERR_INVALID_WORKER_KEY', () => {
  const b32 = workerHost(`0x${ALICE}`).slice(0, 52)
  const hosts = [
    `${ALICE}.i2p`, // wrong suffix
    `${ALICE}.prouter.com`,
    ALICE, // no suffix
    `${ALICE}prouter`,
    `${ALICE.slice(2)}.prouter`, // 62 hex
    `${ALICE}00.prouter`, // 66 hex
    `0x${ALICE.slice(1)}g.prouter`, // a non-hex digit
    `${b32.slice(1)}.prouter`, // 51 base32
    `${b32}a.prouter`, // 53 base32
    `${b32.slice(0, 51)}b.prouter`, // last character carries non-zero padding bits
    `${b32.slice(0, 50)}1a.prouter`, // '1' is not in the base32 alphabet
    `${b32.slice(0, 50)}8a.prouter`,
    '.prouter',
    '',
    `${ALICE}.prouter:`, // empty port
    `${ALICE}.prouter:http`,
  ]
  for (const host of hosts) assert.throws(() => workerKeyFromHost(host), badKey, host)
  for (const name of ['', '0x', `0x${ALICE}.prouter`, `${b32} `]) {
    assert.throws(() => workerKeyFromName(name), badKey, name)
  }
})

test('workerHost refuses a key that is not 0x and 64 hex digits', () => {
  assert.throws(() => workerHost(ALICE), badKey)
  assert.throws(() => workerHost('0x1234'), badKey)
})
