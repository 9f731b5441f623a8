import { createHash } from 'node:crypto'

/**
 * Key material for tests, built byte by byte here so it does not depend on src/sam's own code paths.
 * Layout: public key (256) | signing public key (128) | key certificate 0x05, length 4, payload
 * [sig type 7, crypto type 0] | private key (256) | Ed25519 signing private key (32).
 */
export interface FakeKeys {
  destinationBytes: Buffer
  destination: string
  privateKey: string
  b32: string
}

export function fakeKeys(seed = 1): FakeKeys {
  const keys = Buffer.alloc(384, 0)
  for (let i = 0; i < keys.length; i++) keys[i] = (i * 7 + seed * 13) & 0xff
  const cert = Buffer.from([0x05, 0x00, 0x04, 0x00, 0x07, 0x00, 0x00])
  const destinationBytes = Buffer.concat([keys, cert])
  const privateBytes = Buffer.concat([destinationBytes, Buffer.alloc(256 + 32, seed)])
  return {
    destinationBytes,
    destination: i2pBase64(destinationBytes),
    privateKey: i2pBase64(privateBytes),
    b32: `${rfc4648Base32(createHash('sha256').update(destinationBytes).digest())}.b32.i2p`,
  }
}

export function i2pBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '~')
}

/** A second, deliberately naive base32 (bit string), lower case, no padding. */
export function rfc4648Base32(bytes: Buffer): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('')
  const padded = bits.padEnd(Math.ceil(bits.length / 5) * 5, '0')
  let out = ''
  for (let i = 0; i < padded.length; i += 5) out += alphabet.charAt(parseInt(padded.slice(i, i + 5), 2))
  return out
}
