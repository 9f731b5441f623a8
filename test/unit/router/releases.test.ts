import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  librariesOutside,
  parseDependsClosure,
  parseI2pdRelease,
  releaseAptDir,
  releaseRoot,
} from '../../../src/router/releases.js'
import { isPRouterError } from '../../../src/errors.js'
import { DEFAULT_I2PD_RELEASE } from '../../../src/constants.js'

test('releases are trixie, forky and sid, forky by default; anything else is refused naming the option', () => {
  assert.equal(DEFAULT_I2PD_RELEASE, 'forky')
  assert.equal(parseI2pdRelease('sid', 'PROUTER_I2PD_RELEASE'), 'sid')
  assert.equal(parseI2pdRelease('forky', 'PROUTER_I2PD_RELEASE'), 'forky')
  assert.equal(parseI2pdRelease('trixie', 'PROUTER_I2PD_RELEASE'), 'trixie')
  for (const bad of ['bookworm', 'SID', ' sid', '']) {
    assert.throws(
      () => parseI2pdRelease(bad, 'PROUTER_I2PD_RELEASE'),
      (err: unknown) =>
        isPRouterError(err, 'ERR_INVALID_OPTION') && err.message.includes('PROUTER_I2PD_RELEASE'),
    )
  }
})

test('each release has its own folder and apt state; trixie keeps its old folder', () => {
  assert.equal(releaseRoot('/c', 'trixie'), '/c/i2pd-trixie')
  assert.equal(releaseRoot('/c', 'sid'), '/c/i2pd-sid')
  assert.equal(releaseRoot('/c', 'forky'), '/c/i2pd-forky')
  assert.notEqual(releaseAptDir('/c', 'trixie'), releaseAptDir('/c', 'sid'))
  assert.notEqual(releaseAptDir('/c', 'forky'), releaseAptDir('/c', 'sid'))
})

test('the dependency closure is every package line of apt-cache depends --recurse, virtual ones left out', () => {
  const output = [
    'i2pd',
    '  Depends: libboost-program-options1.92.0',
    '  Depends: libssl3t64',
    ' |Depends: libfoo1',
    '  Depends: <libvirtual>',
    'libboost-program-options1.92.0',
    '  Depends: libc6',
    'libssl3t64',
    '  Depends: libzstd1',
    '  Depends: libc6',
    '<libvirtual>',
    'libfoo1',
    'libzstd1',
    'libc6',
    'libc6',
    '',
  ].join('\n')
  assert.deepEqual(parseDependsClosure(output), [
    'i2pd',
    'libboost-program-options1.92.0',
    'libc6',
    'libfoo1',
    'libssl3t64',
    'libzstd1',
  ])
})

// Captured from trixie's i2pd unpacked by the provisioning of 2026-12-05 on a bookworm host: it listed
// only i2pd's direct dependencies, so libssl's libzstd came from the host.
const root = '/root/.cache/prouter/i2pd-trixie'
const lib = `${root}/usr/lib/x86_64-linux-gnu`
const listed = (zstd: string): string =>
  [
    '\tlinux-vdso.so.1 (0x00007f3a2c5da000)',
    `\tlibssl.so.3 => ${lib}/libssl.so.3 (0x00007f3a2bef0000)`,
    `\tlibc.so.6 => ${lib}/libc.so.6 (0x00007f3a2b20c000)`,
    `\t/lib64/ld-linux-x86-64.so.2 => ${lib}/ld-linux-x86-64.so.2 (0x00007f3a2c5dc000)`,
    `\tlibzstd.so.1 => ${zstd} (0x00007f3a2b150000)`,
    '',
  ].join('\n')

test('a library the loader finds on the host, or not at all, is reported', () => {
  assert.deepEqual(librariesOutside(listed(`${lib}/libzstd.so.1`), root), [])
  assert.deepEqual(librariesOutside(listed('/lib/x86_64-linux-gnu/libzstd.so.1'), root), ['libzstd.so.1'])
  const missing = `\tlibminiupnpc.so.21 => not found\n\t${lib}/ld-linux-x86-64.so.2 (0x00007f640ce98000)\n`
  assert.deepEqual(librariesOutside(missing, root), ['libminiupnpc.so.21'])
  // A sibling folder whose name starts like the root is outside it.
  assert.deepEqual(librariesOutside(`\tlibz.so.1 => ${root}-old/libz.so.1 (0x1)\n`, root), ['libz.so.1'])
})
