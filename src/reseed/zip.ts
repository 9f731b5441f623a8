/**
 * A reseed zip as i2pd reads it (`reseed.zipfile`, or inside an SU3 bundle, see su3.ts): a plain zip of
 * RouterInfo files. Entries are stored (method 0): RouterInfos are small and already compressed where it
 * matters. i2pd reads the entries from their local headers, one after another.
 *
 *   local file header  50 4b 03 04 | ver 20 | flags 0 | method 0 | time | date | crc32 | csize | size
 *                      | name len | extra len 0 | name | data
 *   central directory  50 4b 01 02 | … same fields … | local header offset
 *   end of directory   50 4b 05 06 | entries | dir size | dir offset
 */
import { crc32 } from 'node:zlib'

export interface ZipEntry {
  name: string
  data: Uint8Array
}

const DOS_DATE_1980 = 0x21 // 1980-01-01: fixed, so the same RouterInfos give the same bytes

export function buildReseedZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8')
    const fields = { crc: crc32(e.data), size: e.data.length, nameLength: name.length }
    const local = Buffer.concat([localHeader(fields), name, e.data])
    centrals.push(Buffer.concat([centralHeader(fields, offset), name]))
    locals.push(local)
    offset += local.length
  }
  const central = Buffer.concat(centrals)
  return Buffer.concat([...locals, central, endOfDirectory(entries.length, central.length, offset)])
}

interface Fields {
  crc: number
  size: number
  nameLength: number
}

function localHeader(f: Fields): Buffer {
  const b = Buffer.alloc(30)
  b.writeUInt32LE(0x04034b50, 0)
  b.writeUInt16LE(20, 4) // version needed
  b.writeUInt16LE(DOS_DATE_1980, 12)
  b.writeUInt32LE(f.crc, 14)
  b.writeUInt32LE(f.size, 18)
  b.writeUInt32LE(f.size, 22)
  b.writeUInt16LE(f.nameLength, 26)
  return b
}

function centralHeader(f: Fields, offset: number): Buffer {
  const b = Buffer.alloc(46)
  b.writeUInt32LE(0x02014b50, 0)
  b.writeUInt16LE(20, 4) // version made by
  b.writeUInt16LE(20, 6) // version needed
  b.writeUInt16LE(DOS_DATE_1980, 14)
  b.writeUInt32LE(f.crc, 16)
  b.writeUInt32LE(f.size, 20)
  b.writeUInt32LE(f.size, 24)
  b.writeUInt16LE(f.nameLength, 28)
  b.writeUInt32LE(offset, 42)
  return b
}

function endOfDirectory(count: number, size: number, offset: number): Buffer {
  const b = Buffer.alloc(22)
  b.writeUInt32LE(0x06054b50, 0)
  b.writeUInt16LE(count, 8)
  b.writeUInt16LE(count, 10)
  b.writeUInt32LE(size, 12)
  b.writeUInt32LE(offset, 16)
  return b
}
