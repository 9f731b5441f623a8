/**
 * `/status/plot.js`, a browser module: the status page's traffic plots as inline SVG, drawn by hand (no
 * library, nothing fetched). The y axis is a rate in bytes per second (B/s, KiB/s, MiB/s, GiB/s: each point's
 * bytes over its own interval); the x axis is the history's span, ending at its `now`, in minutes before now.
 * The plot's `data-points` (points in time plotted) and `data-total-bytes` (sum of every plotted series) let
 * tests see it update.
 *
 * Plain JavaScript in a string (String.raw: backslashes stay as written; it must hold no backtick nor `${`).
 */
export const PLOT_JS = String.raw`
const SVG_NS = 'http://www.w3.org/2000/svg'
const WIDTH = 640
const HEIGHT = 220
const MARGIN = { left: 78, right: 14, top: 12, bottom: 30 }
const INNER_W = WIDTH - MARGIN.left - MARGIN.right
const INNER_H = HEIGHT - MARGIN.top - MARGIN.bottom
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
const MINUTE = 60000

/** 1536 -> "1.5 KiB" */
export function formatBytes(n) {
  let i = 0
  while (n >= 1024 && i < BYTE_UNITS.length - 1) {
    n /= 1024
    i++
  }
  const digits = i === 0 || n >= 100 ? 0 : 1
  return n.toFixed(digits) + ' ' + BYTE_UNITS[i]
}

export function formatRate(bytesPerSecond) {
  return formatBytes(bytesPerSecond) + '/s'
}

/**
 * Draws plot = { from, to, step, times, series: [{ values, color, dashed }] } into svg (values: bytes per
 * point or null where unknown, aligned with times).
 */
export function drawPlot(svg, plot) {
  const series = plot.series.map((s) => ({ ...s, rates: toRates(plot.times, s.values, plot.step) }))
  const peak = series.reduce((m, s) => s.rates.reduce((a, r) => (r === null ? a : Math.max(a, r)), m), 0)
  const scale = yScale(peak)
  const x = (t) => MARGIN.left + ((t - plot.from) / Math.max(plot.to - plot.from, 1)) * INNER_W
  const y = (r) => MARGIN.top + INNER_H * (1 - r / scale.top)
  svg.replaceChildren()
  svg.setAttribute('viewBox', '0 0 ' + WIDTH + ' ' + HEIGHT)
  drawYAxis(svg, scale, y)
  drawXAxis(svg, plot, x)
  for (const s of series) drawSeries(svg, s, plot.times, x, y)
  if (plot.times.length === 0) label(svg, MARGIN.left + INNER_W / 2, MARGIN.top + INNER_H / 2, 'no traffic recorded yet', 'empty')
  svg.dataset.points = String(plot.times.length)
  svg.dataset.totalBytes = String(series.reduce((sum, s) => sum + totalOf(s.values), 0))
}

/** items = [{ label, title?, color, dashed? }] as a list of line swatches. */
export function drawLegend(list, items) {
  list.replaceChildren(
    ...items.map((item) => {
      const li = document.createElement('li')
      const swatch = element('svg', { class: 'swatch', width: 28, height: 10, 'aria-hidden': 'true' })
      swatch.append(element('line', lineStyle(item, { x1: 1, y1: 5, x2: 27, y2: 5 })))
      const text = document.createElement('span')
      text.textContent = item.label
      if (item.title) li.title = item.title
      li.append(swatch, text)
      return li
    }),
  )
}

export function totalOf(values) {
  return values.reduce((sum, v) => sum + (v ?? 0), 0)
}

/** Bytes per point -> bytes per second over each point's own interval (the first point's: one step). */
function toRates(times, values, step) {
  return values.map((v, i) => {
    if (v === null) return null
    const interval = i > 0 ? times[i] - times[i - 1] : step
    return v / (Math.max(interval, 1) / 1000)
  })
}

/** The axis top: a round number (1, 2, 3, 4, 5, 6 or 8 × 10^n) of the unit that suits the peak. */
function yScale(peak) {
  const power = Math.min(BYTE_UNITS.length - 1, Math.max(0, Math.floor(Math.log(Math.max(peak, 1)) / Math.log(1024))))
  const unit = Math.pow(1024, power)
  const inUnit = Math.max(peak / unit, 1)
  const decade = Math.pow(10, Math.floor(Math.log10(inUnit)))
  const round = [1, 2, 3, 4, 5, 6, 8, 10].find((m) => inUnit <= m * decade + 1e-9) * decade
  return { top: round * unit, unit, name: BYTE_UNITS[power] + '/s' }
}

function drawYAxis(svg, scale, y) {
  for (let k = 0; k <= 4; k++) {
    const rate = (scale.top * k) / 4
    const at = y(rate)
    svg.append(element('line', { class: 'grid', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: at, y2: at }))
    const value = Number((rate / scale.unit).toPrecision(3))
    label(svg, MARGIN.left - 6, at + 4, value + ' ' + scale.name, 'tick y')
  }
}

function drawXAxis(svg, plot, x) {
  const spanMinutes = (plot.to - plot.from) / MINUTE
  const every = [1, 2, 5, 10, 15, 30, 60, 120].find((m) => spanMinutes / m <= 6) ?? 240
  for (let m = 0; m <= spanMinutes + 1e-9; m += every) {
    const at = x(plot.to - m * MINUTE)
    svg.append(element('line', { class: 'tick-mark', x1: at, x2: at, y1: MARGIN.top + INNER_H, y2: MARGIN.top + INNER_H + 4 }))
    label(svg, at, HEIGHT - 8, m === 0 ? 'now' : '\u2212' + m + ' min', 'tick x')
  }
  svg.append(element('line', { class: 'axis', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: MARGIN.top + INNER_H, y2: MARGIN.top + INNER_H }))
}

/** One path per run of known values; a lone point between gaps is a dot. */
function drawSeries(svg, s, times, x, y) {
  let run = []
  const flush = () => {
    if (run.length === 1) svg.append(element('circle', { cx: run[0][0], cy: run[0][1], r: 2.5, fill: s.color }))
    if (run.length > 1) {
      const d = run.map((p, i) => (i === 0 ? 'M' : 'L') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join(' ')
      svg.append(element('path', lineStyle(s, { d, fill: 'none', 'stroke-linejoin': 'round' })))
    }
    run = []
  }
  s.rates.forEach((r, i) => {
    if (r === null) flush()
    else run.push([x(times[i]), y(r)])
  })
  flush()
}

function lineStyle(s, attrs) {
  return { ...attrs, stroke: s.color, 'stroke-width': 2, ...(s.dashed ? { 'stroke-dasharray': '5 3' } : {}) }
}

function label(svg, x, y, text, className) {
  const t = element('text', { x, y, class: className })
  t.textContent = text
  svg.append(t)
}

function element(name, attrs) {
  const e = document.createElementNS(SVG_NS, name)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
  return e
}
`
