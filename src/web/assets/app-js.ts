/**
 * `/status/app.js`, a browser module: takes the API token from the URL fragment (`#token=…`, which no browser
 * sends to a server) into this tab's sessionStorage and out of the address bar, polls /v1/status, /v1/peers
 * and /v1/metering/history with it, and fills the panels; without a token, or with a refused one, it shows
 * the token form. Every value goes in as text (textContent), never as markup.
 *
 * Plain JavaScript in a string (String.raw: backslashes stay as written; it must hold no backtick nor `${`).
 */
export const APP_JS = String.raw`
import { drawLegend, drawPlot, formatBytes, formatRate, totalOf } from '/status/plot.js'

const TOKEN_KEY = 'prouter.apiToken'
const MIN_POLL = 1000
const MAX_POLL = 5000
const PEER_COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#8c564b', '#6a3d9a']
const OTHER_COLOR = '#7f7f7f'
const GOOD = ['ready', 'up', 'attached']
const PASSING = ['starting', 'opening', 'restarting', 'stopping']

class TokenRefused extends Error {}

let token = takeToken()
let run = 0
let timer

const byId = (testId) => document.querySelector('[data-testid="' + testId + '"]')

function setText(testId, value) {
  byId(testId).textContent = value === undefined || value === null || value === '' ? '\u2014' : String(value)
}

/** The fragment's token wins (and leaves the address bar); else the one this tab kept. */
function takeToken() {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token')
  if (fromUrl !== null) {
    history.replaceState(null, '', location.pathname + location.search)
    if (fromUrl !== '') sessionStorage.setItem(TOKEN_KEY, fromUrl)
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

function start() {
  clearTimeout(timer)
  run++
  if (!token) {
    showLogin('')
    return
  }
  byId('login').hidden = true
  void poll(run)
}

function showLogin(error) {
  clearTimeout(timer)
  byId('dashboard').hidden = true
  byId('forget').hidden = true
  byId('login').hidden = false
  const message = byId('token-error')
  message.textContent = error
  message.hidden = error === ''
  document.getElementById('token').focus()
}

function forget(error) {
  sessionStorage.removeItem(TOKEN_KEY)
  token = null
  run++
  showLogin(error)
}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: 'Bearer ' + token }, cache: 'no-store' })
  if (res.status === 401) throw new TokenRefused()
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(path + ' answered ' + res.status + ' ' + (body.code ?? '') + ' ' + (body.message ?? ''))
  return body
}

async function poll(mine) {
  let step = 10000
  try {
    const [status, peers, traffic] = await Promise.all([api('/v1/status'), api('/v1/peers'), api('/v1/metering/history')])
    if (mine !== run) return
    step = traffic.step ?? step
    render(status, peers, traffic)
    showProblem('')
  } catch (err) {
    if (mine !== run) return
    if (err instanceof TokenRefused) {
      forget('The API refused this token (401). Paste the current one from api.token in the daemon\'s data folder.')
      return
    }
    showProblem('Cannot read the API (' + err.message + '); retrying.')
  }
  timer = setTimeout(() => void poll(mine), Math.min(MAX_POLL, Math.max(MIN_POLL, step)))
}

function showProblem(text) {
  const banner = byId('problem')
  banner.textContent = text
  banner.hidden = text === ''
}

function render(status, peers, traffic) {
  byId('dashboard').hidden = false
  byId('forget').hidden = false
  renderIdentity(status)
  renderRouter(status.router ?? {})
  renderSession(status)
  renderPlots(traffic)
  renderPeers(status.peers ?? {}, peers.peers ?? [], traffic.peers ?? [])
  setText('updated', 'updated ' + new Date(traffic.now ?? Date.now()).toLocaleTimeString())
}

function renderIdentity(s) {
  setText('worker-key', s.workerKey)
  setText('b32', s.b32)
  setText('endpoint', s.endpoint)
  setText('uptime', s.uptimeMs === undefined ? undefined : duration(s.uptimeMs))
}

function renderRouter(r) {
  const stats = r.stats
  setState('router-state', r.state)
  setText('router-mode', r.mode)
  setText('router-version', r.version ?? stats?.version ?? 'unknown')
  setText('router-network', stats ? stats.netStatusName : r.statsError ?? 'no figures from the router')
  setText('router-peers', stats ? stats.knownPeers + ' known, ' + stats.activePeers + ' active' : undefined)
  setText('router-transit', stats ? stats.participatingTunnels + ' tunnels' : undefined)
  setText('router-bandwidth', stats ? formatRate(stats.inboundBps) + ' in, ' + formatRate(stats.outboundBps) + ' out' : undefined)
}

function renderSession(s) {
  setState('session-state', s.session?.state)
  setText('session-since', s.session?.since ? new Date(s.session.since).toLocaleString() : undefined)
  setText('hops-in', hops(s.tunnels?.inbound))
  setText('hops-out', hops(s.tunnels?.outbound))
}

function plural(n, word) {
  return n + ' ' + word + (n === 1 ? '' : 's')
}

/** "3 hops × 2 tunnels; 2 built (3, 3 hops)" */
function hops(side) {
  if (!side) return undefined
  const asked = plural(side.hops, 'hop') + ' \u00d7 ' + plural(side.quantity, 'tunnel')
  if (side.established === undefined) return asked
  const built = side.builtHops.length > 0 ? ' (' + side.builtHops.join(', ') + ' hops)' : ''
  return asked + '; ' + side.established + ' built' + built
}

function setState(testId, state) {
  setText(testId, state)
  byId(testId).className = 'state ' + (GOOD.includes(state) ? 'good' : PASSING.includes(state) ? 'passing' : 'bad')
}

function renderPlots(h) {
  const frame = { from: h.now - h.span, to: h.now, step: h.step, times: h.times ?? [] }
  const peers = (h.peers ?? []).map((p, i) => ({ ...p, color: p.peer === 'other' ? OTHER_COLOR : PEER_COLORS[i % PEER_COLORS.length] }))
  drawPlot(byId('traffic-plot'), {
    ...frame,
    series: peers.flatMap((p) => [
      { values: p.bytesIn, color: p.color },
      { values: p.bytesOut, color: p.color, dashed: true },
    ]),
  })
  drawLegend(byId('traffic-legend'), [
    ...peers.map((p) => ({ label: peerName(p.peer), title: p.peer, color: p.color })),
    { label: 'in (received)', color: OTHER_COLOR },
    { label: 'out (sent)', color: OTHER_COLOR, dashed: true },
  ])
  const bytesIn = peers.reduce((sum, p) => sum + totalOf(p.bytesIn), 0)
  const bytesOut = peers.reduce((sum, p) => sum + totalOf(p.bytesOut), 0)
  setText('traffic-summary', 'Over the last hour: ' + formatBytes(bytesIn) + ' in, ' + formatBytes(bytesOut) + ' out, with ' + peers.length + ' peer series.')
  const transit = [
    { label: 'transit (forwarded for others)', values: h.transit ?? [], color: '#6a3d9a' },
    { label: 'router sent, all traffic', values: h.routerSent ?? [], color: '#d55e00', dashed: true },
    { label: 'router received, all traffic', values: h.routerReceived ?? [], color: '#009e73', dashed: true },
  ]
  drawPlot(byId('transit-plot'), { ...frame, series: transit })
  drawLegend(byId('transit-legend'), transit.map((s) => ({ ...s, label: s.label + ': ' + formatBytes(totalOf(s.values)) })))
  setText('transit-summary', 'Over the last hour: ' + formatBytes(totalOf(transit[0].values)) + ' forwarded for other routers.')
}

function renderPeers(counts, list, series) {
  setText('peers-known', counts.known ?? 'unknown')
  setText('peers-warm', counts.warm)
  setText('peers-streams', (counts.streamsOut ?? 0) + ' out, ' + (counts.streamsIn ?? 0) + ' in')
  const hour = new Map(series.map((s) => [s.peer, [totalOf(s.bytesIn), totalOf(s.bytesOut)]]))
  const rows = list
    .map((p) => ({ ...p, hour: hour.get(p.workerKey) ?? [0, 0] }))
    .sort((a, b) => b.hour[0] + b.hour[1] - a.hour[0] - a.hour[1] || (a.workerKey < b.workerKey ? -1 : 1))
  const body = byId('peer-rows')
  body.replaceChildren(...rows.map(peerRow))
  if (rows.length === 0) body.append(row(['No other worker known yet.'], 7))
}

function peerRow(p) {
  const t = p.traffic
  const r = row([
    p.workerKey,
    warmth(p.warm),
    p.streamsOut,
    t ? t.requestsOut + ' / ' + t.requestsIn : '0 / 0',
    t ? t.errors + (t.lastError ? ' (' + t.lastError + ')' : '') : 0,
    formatBytes(p.hour[0]) + ' / ' + formatBytes(p.hour[1]),
    t ? duration(Date.now() - t.lastSeen) + ' ago' : 'never',
  ])
  r.dataset.testid = 'peer-row'
  r.firstChild.className = 'key'
  return r
}

function warmth(warm) {
  if (!warm) return 'no'
  if (!warm.ok) return 'failing: ' + (warm.error ?? 'unknown error')
  return warm.rttMs === undefined ? 'yes' : 'yes, ' + Math.round(warm.rttMs) + ' ms'
}

function row(cells, span) {
  const tr = document.createElement('tr')
  for (const value of cells) {
    const td = document.createElement('td')
    td.textContent = String(value)
    if (span) td.colSpan = span
    tr.append(td)
  }
  return tr
}

/** "0x1234abcd…9f3e" for the legend; the full key is its title. */
function peerName(peer) {
  if (peer === 'other') return 'other peers'
  return peer.length > 20 ? peer.slice(0, 10) + '\u2026' + peer.slice(-6) : peer
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return s + ' s'
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s'
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min'
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h'
}

byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = document.getElementById('token')
  const value = input.value.trim()
  if (value === '') return
  input.value = ''
  sessionStorage.setItem(TOKEN_KEY, value)
  token = value
  start()
})
byId('forget').addEventListener('click', () => forget(''))
window.addEventListener('hashchange', () => {
  token = takeToken()
  start()
})
start()
`
