import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { test } from 'node:test'
import {
  keyExtractPath,
  keyFromPath,
  mnemonicToMiniSecret,
  mnemonicValidate,
  sr25519PairFromSeed,
  sr25519Verify,
} from '@polkadot/util-crypto'
import { isPRouterError } from '../../../src/errors.js'
import {
  DEV_PHRASE,
  newMnemonic,
  parseWorkerKey,
  workerKeyFromSuri,
  workerKeyHex,
} from '../../../src/identity/index.js'
import { ALICE, BOB } from '../../helpers/identity-vectors.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const badSuri = (err: unknown): boolean => isPRouterError(err, 'ERR_KEY_INVALID_SURI')
const badKey = (err: unknown): boolean => isPRouterError(err, 'ERR_INVALID_WORKER_KEY')

// Substrate's published values for the dev phrase (`subkey inspect`): the phrase's own seed and key,
// and //Alice's derived secret seed.
const DEV_SEED = '0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e'
const DEV_PUBLIC = '46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a'
const ALICE_SEED = '0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a'

test('secret URIs give the well-known Substrate keys', async () => {
  const cases: [string, string][] = [
    ['//Alice', ALICE],
    ['//Bob', BOB],
    [`${DEV_PHRASE}//Alice`, ALICE],
    [DEV_PHRASE, DEV_PUBLIC],
    [DEV_SEED, DEV_PUBLIC],
    [`${DEV_SEED}//Alice`, ALICE],
    [ALICE_SEED, ALICE],
  ]
  for (const [suri, pub] of cases) {
    const pair = await workerKeyFromSuri(suri)
    assert.equal(pair.workerKey, `0x${pub}`, suri)
    assert.equal(hex(pair.publicKey), pub)
  }
})

test('soft paths and ///password derive as @polkadot/keyring does', async () => {
  const root = sr25519PairFromSeed(mnemonicToMiniSecret(DEV_PHRASE, 'pw'))
  const expected = keyFromPath(root, keyExtractPath('//Alice/1').path, 'sr25519')
  assert.equal((await workerKeyFromSuri('//Alice/1///pw')).workerKey, `0x${hex(expected.publicKey)}`)
  assert.notEqual((await workerKeyFromSuri('//Alice/1')).workerKey, `0x${ALICE}`)
})

test('a new mnemonic: 12 valid words, a new key each time, the same key from the same words', async () => {
  const words = newMnemonic()
  assert.equal(words.split(' ').length, 12)
  assert.ok(mnemonicValidate(words))
  assert.notEqual(newMnemonic(), words)
  const a = await workerKeyFromSuri(words)
  assert.equal((await workerKeyFromSuri(words)).workerKey, a.workerKey)
  assert.notEqual((await workerKeyFromSuri(`${words}//prouter`)).workerKey, a.workerKey)
})

test('signatures verify with the substrate context; the secret is in no property, JSON or inspect', async () => {
  const pair = await workerKeyFromSuri('//Alice')
  const message = Buffer.from('hello')
  const signature = pair.sign(message)
  assert.equal(signature.length, 64)
  assert.ok(sr25519Verify(message, signature, pair.publicKey))
  assert.deepEqual(Object.keys(pair).sort(), ['publicKey', 'sign', 'workerKey'])
  assert.ok(Object.isFrozen(pair))
  const secret = hex(
    keyFromPath(
      sr25519PairFromSeed(mnemonicToMiniSecret(DEV_PHRASE)),
      keyExtractPath('//Alice').path,
      'sr25519',
    ).secretKey,
  )
  for (const shown of [JSON.stringify(pair), inspect(pair, { showHidden: true, depth: 5 })]) {
    assert.ok(!shown.replace(/[^0-9a-f]/g, '').includes(secret.slice(0, 16)))
  }
  pair.publicKey.fill(0)
  assert.ok(
    sr25519Verify(message, pair.sign(message), Buffer.from(ALICE, 'hex')),
    'its own copy was untouched',
  )
})

test('bad secret URIs: ERR_KEY_INVALID_SURI, and the secret is not repeated in the message', async () => {
  const bad: unknown[] = [
    '',
    '   ',
    'not a mnemonic at all',
    'bottom drive obey lake curtain smoke basket hold race lonely fit fit', // checksum
    '0x1234',
    `${DEV_SEED}///password`, // a password only salts a mnemonic
    '//',
    undefined,
  ]
  for (const suri of bad) {
    await assert.rejects(workerKeyFromSuri(suri as string), (err: unknown) => {
      assert.ok(badSuri(err), String(suri))
      if (typeof suri === 'string' && suri.trim().length > 4) {
        assert.ok(!(err as Error).message.includes(suri))
      }
      return true
    })
  }
})

test('parseWorkerKey and workerKeyHex', () => {
  assert.equal(hex(parseWorkerKey(`0x${ALICE}`)), ALICE)
  assert.equal(hex(parseWorkerKey(`0x${ALICE.toUpperCase()}`)), ALICE)
  assert.equal(workerKeyHex(parseWorkerKey(`0x${ALICE.toUpperCase()}`)), `0x${ALICE}`)
  for (const text of [
    ALICE,
    `0x${ALICE.slice(2)}`,
    `0x${ALICE}00`,
    `0x${ALICE.slice(0, 63)}g`,
    ` 0x${ALICE}`,
    '',
    5,
  ]) {
    assert.throws(() => parseWorkerKey(text as string), badKey, String(text))
  }
  assert.throws(() => workerKeyHex(new Uint8Array(31)), badKey)
})
