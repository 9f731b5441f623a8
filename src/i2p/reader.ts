/**
 * A cursor over I2P common structures (big-endian integers, I2P Strings, Mappings). Every read checks the
 * bytes are there and fails with the caller's error code, naming the field and the offset:
 *
 *   String   length (1) | UTF-8 bytes (length)
 *   Mapping  size (2, BE) | size bytes of  key String | '=' | value String | ';'  (repeated)
 */
import { PRouterError } from '../errors.js'
import type { ErrorCode } from '../errors.js'

const EQUALS = 0x3d
const SEMICOLON = 0x3b
const utf8 = new TextDecoder('utf-8', { fatal: true })

export class I2pReader {
  private at = 0

  constructor(
    private readonly bytes: Buffer,
    private readonly what: string,
    private readonly code: ErrorCode,
    /** Where `bytes` starts in the whole structure, so offsets in errors are absolute. */
    private readonly base = 0,
  ) {}

  /** Absolute offset of the next byte. */
  get offset(): number {
    return this.base + this.at
  }

  get remaining(): number {
    return this.bytes.length - this.at
  }

  take(length: number, field: string): Buffer {
    if (this.remaining < length) {
      throw this.fail(`${field} needs ${length} bytes at offset ${this.offset}, ${this.remaining} left`)
    }
    const out = this.bytes.subarray(this.at, this.at + length)
    this.at += length
    return out
  }

  u8(field: string): number {
    return this.take(1, field).readUInt8(0)
  }

  u16(field: string): number {
    return this.take(2, field).readUInt16BE(0)
  }

  u64(field: string): bigint {
    return this.take(8, field).readBigUInt64BE(0)
  }

  string(field: string): string {
    const at = this.offset
    const bytes = this.take(this.u8(`${field} length`), field)
    try {
      return utf8.decode(bytes)
    } catch {
      throw this.fail(`${field} at offset ${at} is not UTF-8`)
    }
  }

  /** A Mapping; a duplicate key, a missing '=' or ';', or a size that splits an entry is malformed. */
  mapping(field: string): Map<string, string> {
    const size = this.u16(`${field} size`)
    const inner = new I2pReader(this.take(size, field), this.what, this.code, this.offset - size)
    const out = new Map<string, string>()
    while (inner.remaining > 0) {
      const entryAt = inner.offset
      const key = inner.string(`${field} key`)
      inner.expect(EQUALS, `'=' after ${field} key "${key}"`)
      const value = inner.string(`${field} value of "${key}"`)
      inner.expect(SEMICOLON, `';' after ${field} value of "${key}"`)
      if (out.has(key)) throw this.fail(`${field} repeats key "${key}" at offset ${entryAt}`)
      out.set(key, value)
    }
    return out
  }

  fail(message: string): PRouterError {
    return new PRouterError(this.code, `${this.what}: ${message}`, { detail: { offset: this.offset } })
  }

  private expect(byte: number, field: string): void {
    const at = this.offset
    if (this.u8(field) !== byte) throw this.fail(`${field} expected at offset ${at}`)
  }
}
