/**
 * src/identity against @polkadot/util-crypto (with its WASM ready, as @polkadot/keyring runs it), the
 * independent reference: the same secret URI gives the same key, and each side's signatures verify on
 * the other.
 */
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import {
  cryptoWaitReady,
  keyExtractPath,
  keyExtractSuri,
  keyFromPath,
  mnemonicGenerate,
  mnemonicToMiniSecret,
  sr25519PairFromSeed,
  sr25519Sign,
  sr25519Verify,
} from '@polkadot/util-crypto'
import type { Keypair } from '@polkadot/util-crypto/types'
import { isPRouterError } from '../../../src/errors.js'
import {
  DEV_PHRASE,
  encodeEndpointPayload,
  newMnemonic,
  signBinding,
  verifyBinding,
  workerKeyFromSuri,
  workerKeyHex,
  type WorkerKeyPair,
} from '../../../src/identity/index.js'
import { junctionChainCode } from '../../../src/identity/suri.js'
import { ENDPOINT, SIGNING_TIME } from '../../helpers/identity-vectors.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'))
const HEX_SEED = /^0x[0-9a-fA-F]{64}$/

/** What @polkadot/keyring's createFromUri does for sr25519, with util-crypto's functions only. */
function polkadotPair(suri: string): Keypair {
  const { phrase, path, password } = keyExtractSuri(suri.startsWith('//') ? `${DEV_PHRASE}${suri}` : suri)
  const seed = HEX_SEED.test(phrase) ? bytes(phrase.slice(2)) : mnemonicToMiniSecret(phrase, password)
  return keyFromPath(sr25519PairFromSeed(seed), path, 'sr25519')
}

let mnemonic: string
let suris: string[]

before(async () => {
  await cryptoWaitReady()
  mnemonic = newMnemonic()
  const seed = `0x${hex(mnemonicToMiniSecret(mnemonicGenerate(12)))}`
  suris = [
    '//Alice',
    '//Bob',
    mnemonic,
    `${mnemonic}//hard/soft`,
    `${mnemonic}/0/1`,
    `${mnemonic}//a-junction-name-longer-than-thirty-two-bytes-xxxxxxxx`,
    `${mnemonic}///password`,
    `${mnemonic}//hard///password`,
    `${seed}//hard`,
    `${seed}/soft//7`,
    `${mnemonicGenerate(24)}//0x0102/18446744073709551616///pässwörd 2`, // hex junction, 2^64
    `${mnemonic}//ジャンクション/${'0x' + 'ab'.repeat(40)}///`, // UTF-8, hex > 32 bytes, empty password
  ]
})

test('the same secret URI gives the same public key as @polkadot/util-crypto', async () => {
  for (const suri of suris) {
    const ours = await workerKeyFromSuri(suri)
    assert.equal(ours.workerKey, `0x${hex(polkadotPair(suri).publicKey)}`, suri)
  }
})

test('junction chain codes are those of polkadot DeriveJunction', () => {
  const codes = [
    '0',
    '1',
    '18446744073709551615', // 2^64 - 1
    '18446744073709551616', // 2^64: polkadot keeps it a number, 256-bit little-endian
    `${2n ** 256n - 1n}`,
    '007',
    'Alice',
    'a'.repeat(31),
    'a'.repeat(32), // 33 bytes with its length prefix: hashed
    'a'.repeat(64), // two-byte compact length
    'é',
    '0x',
    '0x00ff',
    `0x${'cd'.repeat(32)}`,
    `0x${'cd'.repeat(33)}`,
    '0x123', // odd digits: a string, not hex
    '0xzz',
    ' spaced name ',
  ]
  for (const code of codes) {
    const [junction] = keyExtractPath(`/${code}`).path
    assert.equal(
      hex(junctionChainCode(code) ?? new Uint8Array()),
      hex(junction?.chainCode ?? bytes('')),
      code,
    )
  }
  assert.throws(() => keyExtractPath(`/${2n ** 256n}`))
  assert.equal(junctionChainCode(`${2n ** 256n}`), undefined)
})

test('URIs polkadot refuses are refused: ERR_KEY_INVALID_SURI', async () => {
  const refused = [
    DEV_PHRASE.replace('fit', '\ufb01t'), // a ligature that NFKD would turn into "fit"
    DEV_PHRASE.replace('bottom', '\uff42ottom'), // a fullwidth letter
    DEV_PHRASE.toUpperCase(),
    `${DEV_PHRASE}//${2n ** 256n}`,
    `${DEV_PHRASE}  //x`,
    `${DEV_PHRASE} walk`,
  ]
  for (const suri of refused) {
    assert.throws(() => polkadotPair(suri), suri)
    await assert.rejects(workerKeyFromSuri(suri), (err) => isPRouterError(err, 'ERR_KEY_INVALID_SURI'))
  }
})

test('signatures made here verify with polkadot sr25519Verify, and polkadot signatures with verifyBinding', async () => {
  for (const suri of suris) {
    const ours = await workerKeyFromSuri(suri)
    const message = Buffer.from(`signed by ${suri}`)
    assert.ok(sr25519Verify(message, ours.sign(message), ours.publicKey), suri)

    const b = signBinding(ours, [ENDPOINT], SIGNING_TIME)
    assert.ok(sr25519Verify(Uint8Array.from([0xff, 0x02, ...b.payload]), b.signature, ours.publicKey), suri)
    assert.equal(verifyBinding(b).workerKey, ours.workerKey)

    const theirs = polkadotBacked(polkadotPair(suri))
    const payload = encodeEndpointPayload({
      pubkey: theirs.publicKey,
      endpoints: [ENDPOINT],
      signingTime: BigInt(SIGNING_TIME),
    })
    const signature = sr25519Sign(Uint8Array.from([0xff, 0x02, ...payload]), polkadotPair(suri))
    assert.equal(verifyBinding({ payload, signature }).workerKey, ours.workerKey, suri)
    assert.equal(verifyBinding(signBinding(theirs, [ENDPOINT], SIGNING_TIME)).workerKey, ours.workerKey)
  }
})

function polkadotBacked(pair: Keypair): WorkerKeyPair {
  return {
    publicKey: pair.publicKey,
    workerKey: workerKeyHex(pair.publicKey),
    sign: (message) => sr25519Sign(message, pair),
  }
}
