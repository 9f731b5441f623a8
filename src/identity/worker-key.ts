/**
 * The worker identity: an sr25519 key pair, as on Phala. Created from a BIP39 mnemonic or a Substrate
 * secret URI (`<mnemonic | 0x seed>[/soft][//hard][///password]`, `//Alice` meaning the dev phrase), derived
 * the way @polkadot/keyring and `subkey` do, so the same URI gives the same key everywhere. Signatures are
 * schnorrkel sr25519 with the signing context `substrate`, as `sp_core::sr25519::Pair::sign`.
 */
import {
  cryptoWaitReady,
  keyExtractSuri,
  keyFromPath,
  mnemonicGenerate,
  mnemonicToMiniSecret,
  mnemonicValidate,
  sr25519PairFromSeed,
  sr25519Sign,
} from '@polkadot/util-crypto'
import { PRouterError } from '../errors.js'

export interface WorkerKeyPair {
  readonly publicKey: Uint8Array
  /** `0x` and 64 lower-case hex digits. */
  readonly workerKey: string
  /** sr25519 signature (64 bytes) of `message`, context `substrate`. */
  sign(message: Uint8Array): Uint8Array
}

/** Substrate's well-known development phrase: `//Alice` is `<DEV_PHRASE>//Alice`. Testnets only. */
export const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk'

const WORKER_KEY = /^0x[0-9a-f]{64}$/i
const HEX_SEED = /^0x[0-9a-f]{64}$/i

export function parseWorkerKey(text: string): Uint8Array {
  if (typeof text !== 'string' || !WORKER_KEY.test(text)) {
    const shown = typeof text === 'string' ? JSON.stringify(text.slice(0, 80)) : typeof text
    throw new PRouterError('ERR_INVALID_WORKER_KEY', `worker key must be 0x and 64 hex digits, got ${shown}`)
  }
  return Uint8Array.from(Buffer.from(text.slice(2), 'hex'))
}

export function workerKeyHex(pub: Uint8Array): string {
  if (!(pub instanceof Uint8Array) || pub.length !== 32) {
    throw new PRouterError('ERR_INVALID_WORKER_KEY', 'a worker public key is 32 bytes')
  }
  return `0x${Buffer.from(pub).toString('hex')}`
}

/** A new 12-word BIP39 mnemonic (128 bits of entropy), the Substrate default. */
export function newMnemonic(): string {
  return mnemonicGenerate(12)
}

let ready: Promise<boolean> | undefined

/** From a mnemonic, `mnemonic//path`, `0x<32-byte seed>[//path]`, or `//Alice` (dev phrase). */
export async function workerKeyFromSuri(suri: string): Promise<WorkerKeyPair> {
  if (typeof suri !== 'string' || suri.trim() === '') throw badSuri('it is empty')
  ready ??= cryptoWaitReady()
  await ready
  const { phrase, path, password } = extract(suri.startsWith('//') ? `${DEV_PHRASE}${suri}` : suri)
  const seed = miniSecret(phrase, password)
  const pair = keyFromPath(sr25519PairFromSeed(seed), path, 'sr25519')
  seed.fill(0)
  return keyPair(pair.publicKey, pair.secretKey)
}

function extract(suri: string): ReturnType<typeof keyExtractSuri> {
  try {
    return keyExtractSuri(suri)
  } catch {
    throw badSuri('expected <mnemonic or 0x seed>[//hard][/soft][///password]')
  }
}

function miniSecret(phrase: string, password: string | undefined): Uint8Array {
  if (HEX_SEED.test(phrase)) {
    if (password !== undefined) throw badSuri('a ///password applies to a mnemonic, not to a hex seed')
    return Uint8Array.from(Buffer.from(phrase.slice(2), 'hex'))
  }
  if (!mnemonicValidate(phrase)) {
    throw badSuri('the phrase is not a valid BIP39 mnemonic nor a 0x 32-byte seed')
  }
  return mnemonicToMiniSecret(phrase, password ?? '')
}

/** The secret key lives in this closure only: not a property, so never serialized, inspected or logged. */
function keyPair(publicKey: Uint8Array, secretKey: Uint8Array): WorkerKeyPair {
  const pub = Uint8Array.from(publicKey)
  const secret = Uint8Array.from(secretKey)
  secretKey.fill(0)
  return Object.freeze({
    publicKey: Uint8Array.from(pub),
    workerKey: workerKeyHex(pub),
    sign: (message: Uint8Array): Uint8Array => sr25519Sign(message, { publicKey: pub, secretKey: secret }),
  })
}

function badSuri(why: string): PRouterError {
  return new PRouterError('ERR_KEY_INVALID_SURI', `secret URI rejected: ${why}`)
}
