/**
 * The worker identity: an sr25519 key pair, as on Phala. Created from a BIP39 mnemonic or a Substrate
 * secret URI (`<mnemonic | 0x seed>[/soft][//hard][///password]`, `//Alice` meaning the dev phrase), derived
 * the way @polkadot/keyring and `subkey` do, so the same URI gives the same key everywhere. Signatures are
 * schnorrkel sr25519 with the signing context `substrate`, as `sp_core::sr25519::Pair::sign`.
 */
import { generateMnemonic, mnemonicToEntropy, validateMnemonic } from '@scure/bip39'
import { wordlist as english } from '@scure/bip39/wordlists/english'
import { pbkdf2 } from '@noble/hashes/pbkdf2.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { PRouterError } from '../errors.js'
import * as sr25519 from './sr25519.js'
import { parseSuri, type Junction, type Suri } from './suri.js'

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

/**
 * Whether `signature` is `pubkey`'s sr25519 signature (context `substrate`) of `message`. A public key that is
 * no curve point cannot have signed anything: false, not an exception.
 */
export function verifySignature(message: Uint8Array, signature: Uint8Array, pubkey: Uint8Array): boolean {
  return sr25519.verify(message, signature, pubkey)
}

/** A new 12-word BIP39 mnemonic (128 bits of entropy), the Substrate default. */
export function newMnemonic(): string {
  return generateMnemonic(english, 128)
}

/**
 * From a mnemonic, `mnemonic//path`, `0x<32-byte seed>[//path]`, or `//Alice` (dev phrase). The work is
 * synchronous now; the promise stays for the callers, and a bad URI still rejects rather than throws.
 */
export function workerKeyFromSuri(suri: string): Promise<WorkerKeyPair> {
  return new Promise((resolve) => {
    resolve(keyFromSuri(suri))
  })
}

function keyFromSuri(suri: string): WorkerKeyPair {
  if (typeof suri !== 'string' || suri.trim() === '') throw badSuri('it is empty')
  const { phrase, path, password } = extract(suri.startsWith('//') ? `${DEV_PHRASE}${suri}` : suri)
  const seed = miniSecret(phrase, password)
  const pair = derive(sr25519.keypairFromSeed(seed), path)
  seed.fill(0)
  return keyPair(pair)
}

function extract(suri: string): Suri {
  const parsed = parseSuri(suri)
  if (parsed === undefined) throw badSuri('expected <mnemonic or 0x seed>[//hard][/soft][///password]')
  return parsed
}

function miniSecret(phrase: string, password: string | undefined): Uint8Array {
  if (HEX_SEED.test(phrase)) {
    if (password !== undefined) throw badSuri('a ///password applies to a mnemonic, not to a hex seed')
    return Uint8Array.from(Buffer.from(phrase.slice(2), 'hex'))
  }
  if (!isMnemonic(phrase)) {
    throw badSuri('the phrase is not a valid BIP39 mnemonic nor a 0x 32-byte seed')
  }
  // Substrate's mini secret (substrate-bip39): PBKDF2 over the entropy, not over the words as in BIP39.
  const entropy = mnemonicToEntropy(phrase, english)
  const seed = pbkdf2(sha512, entropy, `mnemonic${password ?? ''}`, { c: 2048, dkLen: 64 })
  entropy.fill(0)
  const mini = seed.slice(0, 32)
  seed.fill(0)
  return mini
}

/**
 * English words exactly as written. @scure/bip39 NFKD-normalizes first and would take `ﬁt` for `fit`;
 * polkadot's (Rust) check does not, so a phrase that normalization changes is refused here too.
 */
function isMnemonic(phrase: string): boolean {
  return phrase === phrase.normalize('NFKD') && validateMnemonic(phrase, english)
}

/** Hard and soft junctions in turn, as `keyFromPath(pair, path, 'sr25519')`; wipes each replaced pair. */
function derive(rootPair: Uint8Array, path: readonly Junction[]): Uint8Array {
  let pair = rootPair
  for (const { hard, chainCode } of path) {
    const next = sr25519.deriveKeypair(pair, chainCode, hard)
    pair.fill(0)
    pair = next
  }
  return pair
}

/** The secret key lives in this closure only: not a property, so never serialized, inspected or logged. */
function keyPair(pair: Uint8Array): WorkerKeyPair {
  const secret = Uint8Array.from(pair)
  pair.fill(0)
  const pub = sr25519.publicKeyOf(secret)
  return Object.freeze({
    publicKey: Uint8Array.from(pub),
    workerKey: workerKeyHex(pub),
    sign: (message: Uint8Array): Uint8Array => sr25519.sign(secret, message),
  })
}

function badSuri(why: string): PRouterError {
  return new PRouterError('ERR_KEY_INVALID_SURI', `secret URI rejected: ${why}`)
}
