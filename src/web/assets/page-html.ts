/**
 * `/status`: the status page's markup, with no data in it and no inline script or style (the CSP allows
 * neither); app.js fills the elements marked `data-testid`, which the tests read too.
 */
export const STATUS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>PRouter status</title>
    <link rel="icon" href="/status/icon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="/status/style.css" />
    <script type="module" src="/status/app.js"></script>
  </head>
  <body>
    <header class="bar">
      <h1>PRouter <span>status</span></h1>
      <p class="updated" data-testid="updated" aria-live="polite"></p>
      <button type="button" data-testid="forget" hidden>Forget token</button>
    </header>
    <p class="problem" role="alert" data-testid="problem" hidden></p>

    <section class="login" data-testid="login" aria-labelledby="login-title" hidden>
      <form data-testid="token-form">
        <h2 id="login-title">API token</h2>
        <p>
          This page reads the daemon's local API, which needs its token: the file <code>api.token</code> in
          the daemon's data folder. Open <code>/status#token=…</code> or paste it here. It stays in this tab
          only (sessionStorage) and is sent to this daemon alone.
        </p>
        <label for="token">Token</label>
        <div class="row">
          <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required />
          <button type="submit">Open</button>
        </div>
        <p class="error" role="alert" data-testid="token-error" hidden></p>
      </form>
    </section>

    <main data-testid="dashboard" hidden>
      <section class="card identity" aria-labelledby="h-identity">
        <h2 id="h-identity">Identity</h2>
        <dl>
          <dt>Worker key</dt>
          <dd><code class="key" data-testid="worker-key"></code></dd>
          <dt>I2P address</dt>
          <dd><code class="key" data-testid="b32"></code></dd>
          <dt>Endpoint</dt>
          <dd><code class="key" data-testid="endpoint"></code></dd>
          <dt>Uptime</dt>
          <dd data-testid="uptime"></dd>
        </dl>
      </section>

      <section class="card" aria-labelledby="h-router">
        <h2 id="h-router">Router</h2>
        <dl>
          <dt>State</dt>
          <dd><span data-testid="router-state"></span> (<span data-testid="router-mode"></span>)</dd>
          <dt>Version</dt>
          <dd data-testid="router-version"></dd>
          <dt>Network</dt>
          <dd data-testid="router-network"></dd>
          <dt>Routers</dt>
          <dd data-testid="router-peers"></dd>
          <dt>Transit</dt>
          <dd data-testid="router-transit"></dd>
          <dt>Bandwidth</dt>
          <dd data-testid="router-bandwidth"></dd>
        </dl>
      </section>

      <section class="card" aria-labelledby="h-session">
        <h2 id="h-session">Session and tunnels</h2>
        <dl>
          <dt>Session</dt>
          <dd data-testid="session-state"></dd>
          <dt>Since</dt>
          <dd data-testid="session-since"></dd>
          <dt>Inbound</dt>
          <dd data-testid="hops-in"></dd>
          <dt>Outbound</dt>
          <dd data-testid="hops-out"></dd>
        </dl>
      </section>

      <section class="card plot" aria-labelledby="h-traffic">
        <h2 id="h-traffic">Traffic per peer <small>bytes per second, last hour</small></h2>
        <svg
          data-testid="traffic-plot"
          role="img"
          aria-labelledby="h-traffic traffic-summary"
          data-points="0"
          data-total-bytes="0"
        ></svg>
        <ul class="legend" data-testid="traffic-legend" aria-label="Legend"></ul>
        <p class="summary" id="traffic-summary" data-testid="traffic-summary"></p>
      </section>

      <section class="card plot" aria-labelledby="h-transit">
        <h2 id="h-transit">Transit and router totals <small>bytes per second, last hour</small></h2>
        <svg
          data-testid="transit-plot"
          role="img"
          aria-labelledby="h-transit transit-summary"
          data-points="0"
          data-total-bytes="0"
        ></svg>
        <ul class="legend" data-testid="transit-legend" aria-label="Legend"></ul>
        <p class="summary" id="transit-summary" data-testid="transit-summary"></p>
      </section>

      <section class="card peers" aria-labelledby="h-peers">
        <h2 id="h-peers">Peers</h2>
        <dl class="inline">
          <dt>Known</dt>
          <dd data-testid="peers-known"></dd>
          <dt>Warm</dt>
          <dd data-testid="peers-warm"></dd>
          <dt>Streams</dt>
          <dd data-testid="peers-streams"></dd>
        </dl>
        <div class="scroll">
          <table data-testid="peer-table">
            <thead>
              <tr>
                <th scope="col">Worker key</th>
                <th scope="col">Warm path</th>
                <th scope="col">Streams</th>
                <th scope="col">Requests out/in</th>
                <th scope="col">Errors</th>
                <th scope="col">Last hour in/out</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody data-testid="peer-rows"></tbody>
          </table>
        </div>
      </section>
    </main>
  </body>
</html>
`

/** `/status/icon.svg`: the tab's icon (two nodes and a path), so the browser asks for no /favicon.ico. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
  <rect width="32" height="32" rx="6" fill="#1f3a5f"/>
  <path d="M8 22 C14 8, 18 24, 24 10" stroke="#7fc8ff" stroke-width="3" fill="none"/>
  <circle cx="8" cy="22" r="3.5" fill="#fff"/>
  <circle cx="24" cy="10" r="3.5" fill="#fff"/>
</svg>
`
