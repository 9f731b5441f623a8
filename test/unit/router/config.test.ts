import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { RouterConfig } from '../../../src/router/config.js'
import { renderI2pdConf, validateRouterConfig } from '../../../src/router/config.js'
import { isPRouterError } from '../../../src/errors.js'

function config(over: Partial<RouterConfig> = {}): RouterConfig {
  return {
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
    reseed: { urls: [], verify: false, threshold: 5, zipFile: '/tmp/reseed.zip' },
    exploratory: { length: 1, quantity: 2 },
    logLevel: 'warn',
    ...over,
  }
}

/** Parse the rendered ini back into section.key -> value. */
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

test('booleans are written out explicitly, false included', () => {
  const c = parse(renderI2pdConf(config({ published: false, floodfill: false })))
  assert.equal(c.get('ntcp2.published'), 'false')
  assert.equal(c.get('floodfill'), 'false')
  assert.equal(c.get('reservedrange'), 'false')
  assert.equal(c.get('ssu2.enabled'), 'false')
  assert.equal(c.get('upnp.enabled'), 'false')
})

test('a private network reseeds from its zip and from no URL', () => {
  const c = parse(renderI2pdConf(config()))
  assert.equal(c.get('reseed.zipfile'), '/tmp/reseed.zip')
  assert.equal(c.get('reseed.urls'), '')
  assert.equal(c.get('reseed.yggurls'), '')
  assert.equal(c.get('netid'), '77')
})

test('an SU3 bundle: [reseed] file and verify = true, certsdir in the main section, no URL', () => {
  const reseed = { su3File: '/srv/prouter/reseed.su3', urls: [], verify: true, threshold: 3 }
  const c = parse(renderI2pdConf(config({ reseed, certsDir: '/srv/prouter/certificates' })))
  assert.equal(c.get('reseed.file'), '/srv/prouter/reseed.su3')
  assert.equal(c.get('reseed.verify'), 'true')
  assert.equal(c.get('reseed.threshold'), '3')
  assert.equal(c.get('reseed.urls'), '')
  assert.equal(c.get('reseed.yggurls'), '')
  assert.equal(c.has('reseed.zipfile'), false, 'i2pd would read the file first anyway')
  assert.equal(c.get('certsdir'), '/srv/prouter/certificates', 'i2pd loads <certsdir>/reseed/*.crt')
  assert.equal(c.has('reseed.certsdir'), false)
})

test('every listener binds where it is told', () => {
  const c = parse(renderI2pdConf(config()))
  assert.equal(c.get('address4'), '127.0.0.11')
  assert.equal(c.get('sam.address'), '127.0.0.11')
  assert.equal(c.get('i2pcontrol.address'), '127.0.0.11')
  assert.equal(c.get('http.address'), '127.0.0.11')
  assert.equal(c.get('http.auth'), 'true')
})

test('a router behind NAT: no host, so i2pd binds every address and learns its public one', () => {
  const { host: _host, ...rest } = config({ nat: true, ssu2: true })
  const c = parse(renderI2pdConf(validateRouterConfig(rest)))
  assert.equal(c.has('host'), false)
  assert.equal(c.has('address4'), false)
  assert.equal(c.get('nat'), 'true')
  assert.deepEqual(
    [c.get('ssu2.enabled'), c.get('ssu2.published'), c.get('ssu2.port')],
    ['true', 'true', '12345'],
  )
  assert.equal(c.get('sam.address'), '127.0.0.11', 'control ports still bind where told')
})

test('validation names the bad option', () => {
  const cases: Array<[Partial<RouterConfig>, string]> = [
    [{ port: 70000 }, 'port'],
    [{ netId: 0 }, 'netId'],
    [{ bandwidth: 'Z' }, 'bandwidth'],
    [{ host: '1.2.3.4\nfloodfill = true' }, 'host'],
    [{ i2pcontrol: { host: 'h', port: 1, password: '' } }, 'i2pcontrol.password'],
  ]
  for (const [over, option] of cases) {
    assert.throws(
      () => validateRouterConfig(config(over)),
      (err: unknown) => isPRouterError(err, 'ERR_INVALID_OPTION') && err.detail?.option === option,
    )
  }
})

test('reseed urls: an empty list is written empty (fetch nothing), none leaves i2pd its own list', () => {
  const empty = parse(renderI2pdConf(config()))
  assert.equal(empty.get('reseed.urls'), '')
  const own = parse(renderI2pdConf(config({ reseed: { urls: undefined, verify: true, threshold: 25 } })))
  assert.equal(own.has('reseed.urls'), false)
  assert.equal(own.get('reseed.verify'), 'true')
})
