/**
 * sr25519 as Substrate and Phala use it: schnorrkel, signing context `substrate`, Substrate's key derivation.
 * From @polkadot/wasm-crypto, which is schnorrkel itself (the Rust crate polkadot-sdk signs with) compiled to
 * WebAssembly: signing and checking run about 8x faster than a pure-JavaScript implementation, and every
 * message and binding a worker handles is signed or checked (docs/decisions.md).
 *
 * A key pair is 96 bytes: the secret key in schnorrkel's ed25519-expanded form (64), then the public key (32).
 * The WebAssembly module starts when this module is imported; it refuses wrong lengths and points that are
 * not on the curve by answering false, never by throwing.
 */
import {
  sr25519DeriveKeypairHard,
  sr25519DeriveKeypairSoft,
  sr25519KeypairFromSeed,
  sr25519Sign,
  sr25519Verify,
  waitReady,
} from '@polkadot/wasm-crypto'

if (!(await waitReady())) throw new Error('sr25519: the WebAssembly module did not start')

export const KEYPAIR_BYTES = 96
const PUBLIC_AT = 64

/** The key pair of a 32-byte mini secret (the seed a mnemonic gives). */
export function keypairFromSeed(seed: Uint8Array): Uint8Array {
  return sr25519KeypairFromSeed(seed)
}

/** One junction of a derivation path (`//hard` or `/soft`), by its 32-byte chain code. */
export function deriveKeypair(pair: Uint8Array, chainCode: Uint8Array, hard: boolean): Uint8Array {
  return hard ? sr25519DeriveKeypairHard(pair, chainCode) : sr25519DeriveKeypairSoft(pair, chainCode)
}

export function publicKeyOf(pair: Uint8Array): Uint8Array {
  return pair.slice(PUBLIC_AT, KEYPAIR_BYTES)
}

export function sign(pair: Uint8Array, message: Uint8Array): Uint8Array {
  return sr25519Sign(pair.subarray(PUBLIC_AT, KEYPAIR_BYTES), pair.subarray(0, PUBLIC_AT), message)
}

export function verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return sr25519Verify(signature, message, publicKey)
}
