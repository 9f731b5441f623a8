import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createServiceDelivery } from '../../../src/messages/service-delivery.js'
import type { Message } from '../../../src/messages/envelope.js'
import { PRouterError } from '../../../src/errors.js'

const message = (seq = 0): Message =>
  ({ id: 'ab'.repeat(16), time: 1_700_000_000_000, seq, payload: Buffer.from('hello') }) as unknown as Message

async function service(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void,
): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks))
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
    return 'delivered'
  } catch (err) {
    assert.ok(err instanceof PRouterError)
    return err.code
  }
}

test('a 2xx delivers: the payload as the body, the sender and the message in headers', async () => {
  const seen: Array<{ url: string | undefined; headers: http.IncomingHttpHeaders; body: string }> = []
  const svc = await service((req, res, body) => {
    seen.push({ url: req.url, headers: req.headers, body: body.toString() })
    res.end('taken')
  })
  try {
    const deliver = createServiceDelivery({ serviceUrl: `${svc.url}/base/`, path: '/messages' })
    await deliver(message(), '0x' + '11'.repeat(32))
    await deliver(message(7), undefined)
    const [first, second] = seen
    assert.ok(first !== undefined && second !== undefined && seen.length === 2)
    assert.equal(first.url, '/base/messages')
    assert.equal(first.body, 'hello')
    assert.equal(first.headers['x-prouter-caller'], '0x' + '11'.repeat(32))
    assert.equal(first.headers['x-prouter-message-id'], 'ab'.repeat(16))
    assert.equal(first.headers['x-prouter-message-time'], '1700000000000')
    assert.equal(first.headers['x-prouter-message-seq'], undefined)
    assert.equal(second.headers['x-prouter-caller'], 'anonymous')
    assert.equal(second.headers['x-prouter-message-seq'], '7')
  } finally {
    svc.close()
  }
})

test('a 4xx is final (ERR_MESSAGE_REJECTED), a 5xx is to retry (ERR_MESSAGE_SERVICE_FAILED)', async () => {
  let status = 400
  const svc = await service((_req, res) => {
    res.statusCode = status
    res.end('no')
  })
  try {
    const deliver = createServiceDelivery({ serviceUrl: svc.url, path: '/m' })
    assert.equal(await codeOf(deliver(message(), undefined)), 'ERR_MESSAGE_REJECTED')
    status = 503
    assert.equal(await codeOf(deliver(message(), undefined)), 'ERR_MESSAGE_SERVICE_FAILED')
  } finally {
    svc.close()
  }
})

test('no service, a closed port, a service that never answers, one that breaks off: each its code', async () => {
  assert.equal(
    await codeOf(createServiceDelivery({ serviceUrl: undefined, path: '/m' })(message(), undefined)),
    'ERR_NO_SERVICE',
  )
  const gone = await service((_req, res) => res.end())
  const closedUrl = gone.url
  gone.close()
  assert.equal(
    await codeOf(createServiceDelivery({ serviceUrl: closedUrl, path: '/m' })(message(), undefined)),
    'ERR_SERVICE_UNREACHABLE',
  )
  const silent = await service(() => undefined)
  const broken = await service((_req, res) => {
    res.writeHead(200, { 'content-length': 100 })
    res.write('part')
    setTimeout(() => res.socket?.destroy(), 20)
  })
  try {
    const slow = createServiceDelivery({ serviceUrl: silent.url, path: '/m', timeout: 200 })
    const started = Date.now()
    assert.equal(await codeOf(slow(message(), undefined)), 'ERR_REQUEST_TIMEOUT')
    assert.ok(Date.now() - started < 2000)
    const cut = createServiceDelivery({ serviceUrl: broken.url, path: '/m', timeout: 5000 })
    assert.equal(await codeOf(cut(message(), undefined)), 'ERR_SERVICE_UNREACHABLE')
  } finally {
    silent.close()
    broken.close()
  }
})
