/**
 * `/status/style.css`: system fonts only (nothing fetched), light and dark schemes, a four-column grid that
 * fits 1280×800 and falls back to one column on narrow screens.
 */
export const STYLE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f4f6f8;
  --card: #ffffff;
  --text: #1b1f24;
  --muted: #57606a;
  --line: #d0d7de;
  --grid: #e6eaee;
  --accent: #1f3a5f;
  --good: #116329;
  --passing: #7d4e00;
  --bad: #a40e26;
  --mono: ui-monospace, 'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117;
    --card: #161b22;
    --text: #e6edf3;
    --muted: #9198a1;
    --line: #30363d;
    --grid: #21262d;
    --accent: #9ecbff;
    --good: #56d364;
    --passing: #e3b341;
    --bad: #ff7b72;
  }
}
[hidden] {
  display: none !important;
}
* {
  box-sizing: border-box;
}
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', 'Liberation Sans', sans-serif;
}
code,
.key {
  font-family: var(--mono);
  font-size: 13.5px;
}
.bar {
  display: flex;
  align-items: baseline;
  gap: 16px;
  padding: 10px 20px;
  background: var(--accent);
  color: #fff;
}
@media (prefers-color-scheme: dark) {
  .bar {
    background: #1f3a5f;
  }
}
.bar h1 {
  margin: 0;
  font-size: 20px;
}
.bar h1 span {
  font-weight: 400;
}
.bar .updated {
  margin: 0 0 0 auto;
  font-size: 14px;
}
button {
  font: inherit;
  padding: 4px 12px;
  border: 1px solid var(--line);
  border-radius: 6px;
  background: var(--card);
  color: var(--text);
  cursor: pointer;
}
button:focus-visible,
input:focus-visible {
  outline: 3px solid #58a6ff;
  outline-offset: 1px;
}
.problem {
  margin: 12px 20px 0;
  padding: 8px 12px;
  border: 1px solid var(--bad);
  border-radius: 6px;
  color: var(--bad);
  background: var(--card);
}
main {
  display: grid;
  grid-template-columns: repeat(4, minmax(0, 1fr));
  gap: 14px;
  padding: 14px 20px 24px;
}
.card {
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 8px;
  padding: 12px 16px;
  min-width: 0;
}
.identity,
.plot {
  grid-column: span 2;
}
.peers {
  grid-column: 1 / -1;
}
.identity dl {
  grid-template-columns: minmax(0, 1fr);
  gap: 0;
}
.identity dd {
  margin-bottom: 6px;
}
.identity dt {
  font-size: 13px;
}
h2 {
  margin: 0 0 8px;
  font-size: 16px;
}
h2 small {
  font-weight: 400;
  color: var(--muted);
  font-size: 13px;
  margin-left: 6px;
}
dl {
  display: grid;
  grid-template-columns: max-content minmax(0, 1fr);
  gap: 4px 12px;
  margin: 0;
}
dt {
  color: var(--muted);
}
dd {
  margin: 0;
  overflow-wrap: anywhere;
}
dl.inline {
  display: flex;
  flex-wrap: wrap;
  gap: 4px 10px;
  margin-bottom: 8px;
}
dl.inline dd {
  margin-right: 18px;
  font-weight: 600;
}
.key {
  user-select: all;
  overflow-wrap: anywhere;
}
.state {
  font-weight: 600;
}
.state.good {
  color: var(--good);
}
.state.passing {
  color: var(--passing);
}
.state.bad {
  color: var(--bad);
}
.plot svg:not(.swatch) {
  display: block;
  width: 100%;
  height: auto;
  aspect-ratio: 640 / 220;
}
.plot .grid {
  stroke: var(--grid);
}
.plot .axis,
.plot .tick-mark {
  stroke: var(--muted);
}
.plot text {
  fill: var(--muted);
  font-size: 12px;
}
.plot text.y {
  text-anchor: end;
}
.plot text.x,
.plot text.empty {
  text-anchor: middle;
}
.plot text.empty {
  font-size: 15px;
}
.legend {
  display: flex;
  flex-wrap: wrap;
  gap: 2px 16px;
  margin: 6px 0 0;
  padding: 0;
  list-style: none;
  font-size: 13px;
}
.legend li {
  display: flex;
  align-items: center;
  gap: 6px;
}
.summary {
  margin: 6px 0 0;
  font-size: 13px;
  color: var(--muted);
}
.scroll {
  overflow-x: auto;
}
table {
  width: 100%;
  border-collapse: collapse;
  font-size: 13px;
}
th,
td {
  text-align: left;
  padding: 5px 8px 5px 0;
  border-bottom: 1px solid var(--line);
  vertical-align: top;
}
td {
  overflow-wrap: anywhere;
}
td.key {
  overflow-wrap: normal;
  white-space: nowrap;
  font-size: 12.5px;
}
th {
  color: var(--muted);
  font-weight: 600;
  white-space: nowrap;
}
.login {
  max-width: 560px;
  margin: 48px auto;
  padding: 20px 24px;
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 8px;
}
.login h2 {
  font-size: 18px;
}
.login label {
  display: block;
  font-weight: 600;
  margin-bottom: 4px;
}
.login .row {
  display: flex;
  gap: 8px;
}
.login input {
  flex: 1;
  font: inherit;
  font-family: var(--mono);
  padding: 5px 8px;
  border: 1px solid var(--line);
  border-radius: 6px;
  background: var(--bg);
  color: var(--text);
}
.error {
  color: var(--bad);
  font-weight: 600;
}
@media (max-width: 900px) {
  main {
    grid-template-columns: minmax(0, 1fr);
  }
  .identity,
  .plot {
    grid-column: auto;
  }
}
`
