/** Writes docs/errors.md from ERROR_CODES (src/errors.ts), grouped by prefix. `npm run docs:errors`. */
import { writeFile } from 'node:fs/promises'
import { ERROR_CODES } from '../src/errors.js'

const GROUPS: Array<[string, RegExp]> = [
  ['General', /^ERR_(INVALID_(OPTION|ARGUMENT)|INTERNAL)$/],
  ['SAM client (src/sam)', /^ERR_SAM_/],
  ['Router (src/router)', /^ERR_(ROUTER_(?!UNAVAILABLE|INFO_)|I2PCONTROL)/],
  ['I2P structures (src/i2p)', /^ERR_ROUTER_INFO_(MALFORMED|SIGNATURE|UNSUPPORTED)$/],
  ['Identity (src/identity)', /^ERR_(BINDING_(MALFORMED|SIGNATURE)|INVALID_WORKER_KEY|KEY_|I2P_|CALLER_)/],
  ['Registry (src/registry)', /^ERR_(REGISTRY|BINDING|EVM|ROUTER_INFO)_/],
  ['Metering and usage reports (src/metering, src/registry/usage-reports.ts)', /^ERR_(REPORT|METERING)_/],
  ['Reseed bundles (src/reseed, src/daemon/registry-reseed.ts)', /^ERR_(SU3|RESEED)_/],
  ['Messages between workers (src/messages; HTTP status in docs/api.md)', /^ERR_MESSAGE_/],
  ['Testnet (src/testnet)', /^ERR_(TESTNET_|NETNS$|WANLINK$)/],
  [
    'Daemon, relays and local API (src/daemon, src/proxy, src/api; HTTP status in docs/api.md)',
    /^ERR_(ROUTER_UNAVAILABLE|DAEMON_|SESSION_|PEER_|API_|PROXY_|NOT_FOUND|TOO_MANY|RATE|HEADERS|BODY|PATH|ANONYMOUS|REQUEST|IDLE|SERVICE|NO_SERVICE)/,
  ],
]

const INTRO = `# Error codes

Every error PRouter raises is a \`PRouterError\` with a stable \`code\`. Branch on \`code\`, never on the message;
messages say what failed and where (command, host:port, pid) and may change. \`detail\` carries non-secret context
(the raw SAM line with keys redacted, a pid, an exit code). A caller abort rejects with the caller signal's
\`reason\`, not with a code; deadlines are \`*_TIMEOUT\` codes. HTTP APIs answer \`{ code, message }\`.

This file is generated from \`src/errors.ts\` by \`npm run docs:errors\`.
`

function render(): string {
  const placed = new Set<string>()
  let out = INTRO
  for (const [title, re] of [...GROUPS, ['Other', /./] as [string, RegExp]]) {
    const rows = Object.entries(ERROR_CODES).filter(([code]) => !placed.has(code) && re.test(code))
    if (rows.length === 0) continue
    out += `\n## ${title}\n\n| code | meaning |\n| --- | --- |\n`
    for (const [code, meaning] of rows) {
      placed.add(code)
      out += `| \`${code}\` | ${meaning} |\n`
    }
  }
  return out
}

await writeFile(new URL('../docs/errors.md', import.meta.url), render())
