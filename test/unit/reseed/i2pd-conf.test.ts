/** What i2pd 2.56 needs in i2pd.conf to reseed from a signed SU3 file (see libi2pd/Reseed.cpp, FS.cpp). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { RouterConfig } from '../../../src/router/config.js'
import { renderI2pdConf } from '../../../src/router/config.js'

const base: RouterConfig = {
  dataDir: '/tmp/r0',
  host: '127.0.0.11',
  port: 12345,
  netId: 77,
  published: true,
  floodfill: false,
  bandwidth: 'X',
  reservedRange: false,
  nat: false,
  ssu2: false,
  ipv6: false,
  transit: true,
  sam: { host: '127.0.0.11', port: 7656 },
  i2pcontrol: { host: '127.0.0.11', port: 7650, password: 'secret1' },
  console: { host: '127.0.0.11', port: 7070, user: 'prouter', password: 'secret2' },
  reseed: { su3File: '/srv/prouter/reseed.su3', urls: [], verify: true, threshold: 3 },
  certsDir: '/srv/prouter/certificates',
  exploratory: { length: 1, quantity: 2 },
  logLevel: 'warn',
}

/** `section.key` -> value ('' for the main section). */
function parse(text: string): Map<string, string> {
  const out = new Map<string, string>()
  let section = ''
  for (const line of text.split('\n')) {
    const head = /^\[(.+)\]$/.exec(line)
    if (head) section = `${head[1] ?? ''}.`
    const kv = /^(\S+) = (.*)$/.exec(line)
    if (kv) out.set(`${section}${kv[1] ?? ''}`, kv[2] ?? '')
  }
  return out
}

test('an SU3 bundle: [reseed] file and verify = true, certsdir in the main section, no URL', () => {
  const c = parse(renderI2pdConf(base))
  assert.equal(c.get('reseed.file'), '/srv/prouter/reseed.su3')
  assert.equal(c.get('reseed.verify'), 'true')
  assert.equal(c.get('reseed.threshold'), '3')
  assert.equal(c.get('reseed.urls'), '')
  assert.equal(c.get('reseed.yggurls'), '')
  assert.equal(c.has('reseed.zipfile'), false, 'i2pd would read the file first anyway')
  assert.equal(c.get('certsdir'), '/srv/prouter/certificates', 'i2pd loads <certsdir>/reseed/*.crt')
  assert.equal(c.has('reseed.certsdir'), false)
})
