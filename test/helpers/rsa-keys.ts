/** RSA-4096 key pairs for tests, made once per test process (each takes ~0.5-3 s). */
import type { KeyObject } from 'node:crypto'
import { generateKeyPair } from 'node:crypto'
import { promisify } from 'node:util'

const generate = promisify(generateKeyPair)
const made = new Map<string, Promise<{ privateKey: KeyObject; publicKey: KeyObject }>>()

/** The key pair called `name` in this process: the same name gives the same pair. */
export function rsa4096(name = 'a'): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  let pair = made.get(name)
  if (pair === undefined) {
    pair = generate('rsa', { modulusLength: 4096, publicExponent: 0x10001 })
    made.set(name, pair)
  }
  return pair
}
