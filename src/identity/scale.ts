/**
 * The few SCALE (parity-scale-codec) pieces a WorkerEndpointPayload needs. Compact<u32> lengths, low two
 * bits of the first byte select the mode, little-endian throughout:
 *
 *   0b00  1 byte    value << 2                  0 ..= 63
 *   0b01  2 bytes   value << 2                  64 ..= 16383
 *   0b10  4 bytes   value << 2                  16384 ..= 2^30 - 1
 *   0b11  1 + n     (n - 4) << 2, then n bytes  2^30 ..= 2^32 - 1 (n = 4 for a u32)
 *
 * Decoding is as strict as the Rust codec's Compact<u32>: the shortest mode only, nothing past u32.
 */

export class ScaleError extends Error {
  override readonly name = 'ScaleError'
}

const MAX_U32 = 0xffff_ffff

export function encodeCompactU32(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_U32) {
    throw new RangeError(`compact u32 out of range: ${String(value)}`)
  }
  if (value < 1 << 6) return Uint8Array.of(value << 2)
  if (value < 1 << 14) return le(value * 4 + 0b01, 2)
  if (value < 2 ** 30) return le(value * 4 + 0b10, 4)
  const out = new Uint8Array(5)
  out[0] = 0b11
  out.set(le(value, 4), 1)
  return out
}

/** A forward-only reader over bytes; every read checks the bytes are there. */
export class ScaleReader {
  #at = 0
  readonly #bytes: Uint8Array

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  get remaining(): number {
    return this.#bytes.length - this.#at
  }

  bytes(length: number, what: string): Uint8Array {
    if (length > this.remaining) {
      throw new ScaleError(`${what}: needs ${length} bytes, ${this.remaining} left`)
    }
    const out = this.#bytes.slice(this.#at, this.#at + length)
    this.#at += length
    return out
  }

  u8(what: string): number {
    return this.bytes(1, what)[0] ?? 0
  }

  u64(what: string): bigint {
    const b = this.bytes(8, what)
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true)
  }

  compactU32(what: string): number {
    const first = this.u8(what)
    switch (first & 0b11) {
      case 0b00:
        return first >>> 2
      case 0b01:
        return this.canonical((first | (this.u8(what) << 8)) >>> 2, 1 << 6, what)
      case 0b10: {
        const rest = this.bytes(3, what)
        const raw = first + 2 ** 8 * (rest[0] ?? 0) + 2 ** 16 * (rest[1] ?? 0) + 2 ** 24 * (rest[2] ?? 0)
        return this.canonical(Math.floor(raw / 4), 1 << 14, what)
      }
      default:
        return this.bigCompact(first, what)
    }
  }

  private bigCompact(first: number, what: string): number {
    if (first >>> 2 !== 0) throw new ScaleError(`${what}: compact of ${(first >>> 2) + 4} bytes exceeds u32`)
    const b = this.bytes(4, what)
    return this.canonical(new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true), 2 ** 30, what)
  }

  private canonical(value: number, min: number, what: string): number {
    if (value < min) throw new ScaleError(`${what}: compact ${value} not in its shortest form`)
    return value
  }
}

function le(value: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let v = value
  for (let i = 0; i < length; i++) {
    out[i] = v % 256
    v = Math.floor(v / 256)
  }
  return out
}

export function encodeU64(value: bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, value, true)
  return out
}
