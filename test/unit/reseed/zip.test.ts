import { test } from 'node:test'
import assert from 'node:assert/strict'
import { crc32 } from 'node:zlib'
import { buildReseedZip } from '../../../src/reseed/zip.js'

/** A reader written from the zip specification, independent of the writer. */
function readZip(zip: Buffer): Array<{ name: string; data: Buffer }> {
  const eocd = zip.length - 22
  assert.equal(zip.readUInt32LE(eocd), 0x06054b50)
  const count = zip.readUInt16LE(eocd + 10)
  let p = zip.readUInt32LE(eocd + 16)
  const out: Array<{ name: string; data: Buffer }> = []
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(p), 0x02014b50)
    const size = zip.readUInt32LE(p + 24)
    const nameLength = zip.readUInt16LE(p + 28)
    const local = zip.readUInt32LE(p + 42)
    assert.equal(zip.readUInt32LE(local), 0x04034b50)
    assert.equal(zip.readUInt16LE(local + 8), 0, 'stored')
    const name = zip.subarray(local + 30, local + 30 + nameLength).toString()
    const data = zip.subarray(local + 30 + nameLength, local + 30 + nameLength + size)
    assert.equal(zip.readUInt32LE(local + 14), crc32(data))
    out.push({ name, data })
    p += 46 + nameLength
  }
  return out
}

test('entries come back byte for byte, with their CRCs', () => {
  const entries = [
    { name: 'routerInfo-a.dat', data: Buffer.from('first router info') },
    { name: 'routerInfo-b.dat', data: Buffer.alloc(3000, 7) },
  ]
  const back = readZip(buildReseedZip(entries))
  assert.deepEqual(
    back.map((e) => [e.name, e.data.toString('hex')]),
    entries.map((e) => [e.name, e.data.toString('hex')]),
  )
})

test('the same input gives the same bytes', () => {
  const entries = [{ name: 'x', data: Buffer.from('y') }]
  assert.deepEqual(buildReseedZip(entries), buildReseedZip(entries))
})
