/**
 * The status page: one HTML document, one stylesheet and one script, all served by the bridge itself (the
 * bundle is a single file, so they live here as strings) so a strict Content-Security-Policy holds: no
 * inline script or style, nothing from another origin. The script keeps the bearer token in this tab's
 * sessionStorage and sends it only as an Authorization header; everything from the server is rendered
 * with textContent, never as HTML.
 */
import type { FastifyInstance } from 'fastify';

export const STATUS_PAGE_PATHS = { page: ['/', '/app'], script: '/app/app.js', style: '/app/app.css' } as const;

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>SCIM bridge status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${STATUS_PAGE_PATHS.style}">
<script src="${STATUS_PAGE_PATHS.script}" defer></script>
<link rel="stylesheet" href="/app/holds.css">
<script src="/app/holds.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header class="top">
  <h1>SCIM bridge</h1>
  <button id="refresh" type="button" hidden>Refresh</button>
  <button id="signout" type="button" hidden>Sign out</button>
</header>
<main id="main" tabindex="-1">
  <section id="signin" aria-labelledby="signin-title">
    <h2 id="signin-title">Sign in</h2>
    <p>Sign in with the bridge's bearer token (the one your identity provider uses). It stays in this browser tab's session storage and is sent only as an Authorization header.</p>
    <form id="signin-form" novalidate>
      <label for="token">Bearer token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" autocapitalize="off" aria-describedby="signin-error">
      <button type="submit">Sign in</button>
      <p id="signin-error" class="error" role="alert" hidden></p>
    </form>
  </section>
  <div id="dashboard" hidden>
    <p id="notice" class="error" role="alert" hidden></p>
    <div class="cards">
      <section class="card" aria-labelledby="health-title">
        <h2 id="health-title">Health</h2>
        <dl>
          <dt>Status</dt><dd id="s-status">…</dd>
          <dt>Version</dt><dd id="s-version">…</dd>
          <dt>Up for</dt><dd id="s-uptime">…</dd>
          <dt>Store</dt><dd id="s-store">…</dd>
          <dt>Tokens accepted</dt><dd id="s-tokens">…</dd>
          <dt>Replica</dt><dd id="s-replica">…</dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="directory-title">
        <h2 id="directory-title">Directory</h2>
        <dl>
          <dt>Active users</dt><dd id="c-active">…</dd>
          <dt>Suspended users</dt><dd id="c-suspended">…</dd>
          <dt>Managed groups</dt><dd id="c-managed">…</dd>
          <dt>Protected groups</dt><dd id="c-protected">…</dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="traffic-title">
        <h2 id="traffic-title">Traffic</h2>
        <p class="hint">This replica, last 5 minutes.</p>
        <dl>
          <dt>Requests</dt><dd id="r-requests">…</dd>
          <dt>Per minute</dt><dd id="r-rate">…</dd>
          <dt>Client errors (4xx)</dt><dd id="r-client">…</dd>
          <dt>Server errors (5xx)</dt><dd id="r-server">…</dd>
        </dl>
      </section>
      <section class="card" id="sync-card" aria-labelledby="sync-title" hidden>
        <h2 id="sync-title">Directory sync</h2>
        <dl>
          <dt>Source</dt><dd id="y-source">…</dd>
          <dt>State</dt><dd id="y-state">…</dd>
          <dt>Last run</dt><dd id="y-last">…</dd>
          <dt>Outcome</dt><dd id="y-outcome">…</dd>
          <dt>Changes</dt><dd id="y-changes">…</dd>
          <dt>Errors</dt><dd id="y-errors">…</dd>
        </dl>
        <ul id="y-error-list" class="hint"></ul>
      </section>
    </div>
    <section id="webhooks-section" aria-labelledby="webhooks-title" hidden>
      <h2 id="webhooks-title">Webhooks</h2>
      <p class="hint">Every endpoint, as the store has it (the same on every replica).</p>
      <div class="scroll">
        <table id="webhooks">
          <thead><tr><th scope="col">Endpoint</th><th scope="col">State</th><th scope="col">Lag</th><th scope="col">Last delivery</th><th scope="col">Last status</th><th scope="col">Delivered</th><th scope="col">Failures</th><th scope="col">Dead letter</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>
    <section aria-labelledby="clients-title">
      <h2 id="clients-title">Identity providers</h2>
      <p class="hint">Last request from each client (by User-Agent) that this replica has answered since it started.</p>
      <div class="scroll">
        <table id="clients">
          <thead><tr><th scope="col">Client</th><th scope="col">Last request</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">Requests</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <p id="clients-empty" class="hint" hidden>No identity provider has reached this replica yet.</p>
    </section>
    <section aria-labelledby="events-title">
      <h2 id="events-title">Provisioning events</h2>
      <form id="filter" role="search" aria-label="Filter events">
        <label for="f-outcome">Outcome</label>
        <select id="f-outcome" name="outcome">
          <option value="">All</option>
          <option value="success">Success</option>
          <option value="refused">Refused</option>
          <option value="failed">Failed</option>
        </select>
        <label for="f-q">Search</label>
        <input id="f-q" name="q" type="search" maxlength="200" placeholder="user, group, action, client">
        <button type="submit">Apply</button>
      </form>
      <div class="scroll">
        <table id="events">
          <caption id="events-caption">Newest first</caption>
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Resource</th><th scope="col">Outcome</th><th scope="col">Status</th><th scope="col">Request id</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <p id="events-empty" class="hint" hidden>No events match.</p>
      <nav class="pager" aria-label="Event pages">
        <button id="newer" type="button" disabled>Newer</button>
        <span id="page-info" aria-live="polite"></span>
        <button id="older" type="button" disabled>Older</button>
      </nav>
    </section>
    <p id="refreshed" class="hint" aria-live="polite"></p>
  </div>
</main>
<footer class="bottom"><p>SCIM 2.0 bridge · <a href="/health">health</a> · <a href="/metrics">metrics</a></p></footer>
</body>
</html>
`;

const CSS = `:root{--bg:#f6f7f9;--fg:#1b1f24;--muted:#4a5360;--card:#fff;--line:#d0d5dd;--accent:#0b57d0;--ok:#0a6b2d;--bad:#a4161a;--warn:#7a4d00;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#14171c;--fg:#e8eaed;--muted:#b4bcc8;--card:#1e232a;--line:#3b4350;--accent:#8ab4f8;--ok:#7ee2a0;--bad:#ffb4ab;--warn:#ffd479}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
.skip{position:absolute;left:-9999px}
.skip:focus{left:1rem;top:1rem;background:var(--card);padding:.5rem;z-index:1}
.top{display:flex;gap:1rem;align-items:center;padding:.75rem 1.5rem;border-bottom:1px solid var(--line);background:var(--card)}
.top h1{font-size:1.25rem;margin:0;flex:1}
main{padding:1.5rem;max-width:80rem;margin:0 auto}
main:focus{outline:none}
h2{font-size:1.125rem;margin:1.5rem 0 .5rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:0 1rem 1rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}
dt{color:var(--muted)}
dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums}
.hint{color:var(--muted);margin:.25rem 0 .75rem}
.error{color:var(--bad);font-weight:600}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}
label{font-weight:600}
input,select,button{font:inherit;color:inherit}
input,select{background:var(--card);border:1px solid var(--muted);border-radius:.25rem;padding:.375rem .5rem}
button{background:var(--accent);color:var(--bg);border:1px solid var(--accent);border-radius:.25rem;padding:.375rem .875rem;cursor:pointer;font-weight:600}
button:disabled{opacity:.5;cursor:not-allowed}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
#signin{max-width:36rem}
#signin-form{display:grid;gap:.5rem}
#filter{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin-bottom:.75rem}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:.5rem;background:var(--card)}
table{border-collapse:collapse;width:100%;font-size:.9375rem}
caption{text-align:left;padding:.5rem .75rem;color:var(--muted)}
th,td{text-align:left;padding:.375rem .75rem;border-top:1px solid var(--line);vertical-align:top}
thead th{border-top:0;color:var(--muted);font-weight:600}
td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.8125rem;word-break:break-all}
td small{display:block;color:var(--muted)}
td time{white-space:nowrap}
.pager{display:flex;gap:1rem;align-items:center;margin-top:.75rem}
.bottom{padding:1rem 1.5rem;color:var(--muted);border-top:1px solid var(--line)}
[hidden]{display:none!important}
`;

// Plain ES2020 for the browser: no template literals, so this file's own template stays unambiguous.
const JS = `(function () {
  'use strict';
  var KEY = 'scim-bridge-token';
  var PAGE = 20;
  var $ = function (id) { return document.getElementById(id); };
  var state = { cursors: [undefined], page: 0, next: null, outcome: '', q: '', timer: 0 };

  function token() { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } }

  function api(path) {
    return fetch(path, { headers: { authorization: 'Bearer ' + token(), accept: 'application/json' }, cache: 'no-store', credentials: 'omit' })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (res.ok) return body;
          var error = new Error(body && body.detail ? body.detail : 'The bridge answered ' + res.status);
          error.status = res.status;
          error.retryAfter = res.headers.get('retry-after');
          throw error;
        });
      });
  }

  function text(id, value, cls) {
    var el = $(id);
    el.textContent = value === undefined || value === null ? '–' : String(value);
    el.className = cls || '';
  }

  function duration(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
    if (d) return d + ' d ' + h + ' h';
    if (h) return h + ' h ' + m + ' min';
    if (m) return m + ' min';
    return Math.floor(seconds) + ' s';
  }

  function when(iso) {
    var date = new Date(iso);
    var el = document.createElement('time');
    el.dateTime = iso;
    el.textContent = date.toLocaleString();
    el.title = iso;
    return el;
  }

  function cell(row, content, cls) {
    var td = document.createElement('td');
    if (content instanceof Node) td.appendChild(content); else td.textContent = content === undefined || content === null ? '' : String(content);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function show(signedIn) {
    $('signin').hidden = signedIn;
    $('dashboard').hidden = !signedIn;
    $('signout').hidden = !signedIn;
    $('refresh').hidden = !signedIn;
  }

  function signOut(message) {
    try { sessionStorage.removeItem(KEY); } catch (e) { /* storage disabled */ }
    clearInterval(state.timer);
    show(false);
    var error = $('signin-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('token').value = '';
    $('token').focus();
  }

  function failed(error) {
    if (error.status === 401) return signOut('The bridge did not accept that token. Check that you pasted the whole bearer token, and that it has not been retired.');
    var notice = $('notice');
    notice.textContent = error.status === 429
      ? 'Too many requests right now' + (error.retryAfter ? '; try again in ' + error.retryAfter + ' s.' : '.')
      : 'Could not load the status: ' + error.message;
    notice.hidden = false;
  }

  function renderStatus(s) {
    var healthy = s.status === 'ok';
    text('s-status', healthy ? 'Healthy' : 'Unavailable', healthy ? 'ok' : 'bad');
    text('s-version', s.version);
    text('s-uptime', duration(s.uptimeSeconds));
    text('s-store', s.store.kind + ' · ' + (s.store.status === 'ok' ? 'reachable (' + s.store.latencyMs + ' ms)' : s.store.status), s.store.status === 'ok' ? '' : 'bad');
    text('s-tokens', s.session.tokens);
    text('s-replica', s.replica);
    var c = s.counts || {};
    text('c-active', c.usersActive);
    text('c-suspended', c.usersSuspended);
    text('c-managed', c.groupsManaged);
    text('c-protected', c.groupsProtected);
    text('r-requests', s.rates.requests);
    text('r-rate', s.rates.requestsPerMinute);
    text('r-client', s.rates.clientErrors, s.rates.clientErrors ? 'warn' : '');
    text('r-server', s.rates.serverErrors, s.rates.serverErrors ? 'bad' : '');
    var body = $('clients').tBodies[0];
    body.replaceChildren();
    s.clients.forEach(function (client) {
      var row = document.createElement('tr');
      cell(row, client.agent);
      cell(row, when(client.at));
      cell(row, client.method + ' ' + client.path, 'mono');
      cell(row, client.status, client.status >= 400 ? 'bad' : 'ok');
      cell(row, client.requests);
      body.appendChild(row);
    });
    $('clients-empty').hidden = s.clients.length > 0;
    renderSync(s.sync);
    renderWebhooks(s.webhooks);
  }

  function renderWebhooks(list) {
    $('webhooks-section').hidden = !list || list.length === 0;
    if (!list) return;
    var body = $('webhooks').tBodies[0];
    body.replaceChildren();
    list.forEach(function (w) {
      var row = document.createElement('tr');
      cell(row, w.name + ' · ' + w.url, 'mono');
      cell(row, w.state + (w.nextAttemptAt ? ' (next try ' + new Date(w.nextAttemptAt).toLocaleString() + ')' : ''), w.state === 'delivering' ? 'ok' : w.state === 'retrying' || w.state === 'paused' ? 'warn' : 'bad');
      cell(row, w.lagPositions + (w.lagPositions === 1 ? ' change, ' : ' changes, ') + w.lagSeconds + ' s', w.lagSeconds > 60 ? 'warn' : '');
      cell(row, w.lastDeliveredAt ? when(w.lastDeliveredAt) : 'not yet');
      cell(row, w.lastStatus !== null ? String(w.lastStatus) + (w.lastError ? ': ' + w.lastError : '') : (w.lastError || '—'), w.lastError ? 'bad' : '');
      cell(row, w.delivered);
      cell(row, w.failures, w.failures ? 'warn' : '');
      cell(row, w.deadLetter ? 'position ' + w.deadLetter.position + ' since ' + new Date(w.deadLetter.at).toLocaleString() : 'none', w.deadLetter ? 'bad' : '');
      body.appendChild(row);
    });
  }

  function renderSync(y) {
    $('sync-card').hidden = !y;
    if (!y) return;
    var r = y.lastRun, n = r ? r.counts : null;
    text('y-source', y.source === 'google-workspace' ? 'Google Workspace' : y.source);
    text('y-state', y.state + (y.leader ? ' (this replica)' : ''));
    text('y-last', r ? new Date(r.finishedAt).toLocaleString() + ' (' + Math.round(r.durationMs / 100) / 10 + ' s)' : 'not yet');
    text('y-outcome', r ? r.outcome : null, r ? (r.outcome === 'success' ? 'ok' : r.outcome === 'partial' ? 'warn' : 'bad') : '');
    text('y-changes', n ? n.usersCreated + ' created, ' + n.usersUpdated + ' updated, ' + n.usersSuspended + ' suspended, ' + n.usersReactivated + ' reactivated; ' + n.membersAdded + ' members added, ' + n.membersRemoved + ' removed' : null);
    text('y-errors', r ? r.errorCount : null, r && r.errorCount ? 'bad' : '');
    var list = $('y-error-list');
    list.replaceChildren();
    (r ? r.errors : []).forEach(function (line) { var item = document.createElement('li'); item.textContent = line; list.appendChild(item); });
  }

  function renderEvents(result) {
    var body = $('events').tBodies[0];
    body.replaceChildren();
    result.events.forEach(function (e) {
      var row = document.createElement('tr');
      cell(row, when(e.at));
      cell(row, e.actor);
      var what = cell(row, e.action);
      if (e.detail) { var small = document.createElement('small'); small.textContent = e.detail; what.appendChild(small); }
      cell(row, e.resourceName || e.resourceId || '');
      cell(row, e.outcome, e.outcome === 'success' ? 'ok' : 'bad');
      cell(row, e.status);
      cell(row, e.requestId || '', 'mono');
      body.appendChild(row);
    });
    state.next = result.next;
    $('events-empty').hidden = result.events.length > 0;
    $('older').disabled = result.next === null;
    $('newer').disabled = state.page === 0;
    $('page-info').textContent = 'Page ' + (state.page + 1);
  }

  function loadEvents() {
    var params = new URLSearchParams({ limit: String(PAGE) });
    var before = state.cursors[state.page];
    if (before !== undefined) params.set('before', String(before));
    if (state.outcome) params.set('outcome', state.outcome);
    if (state.q) params.set('q', state.q);
    return api('/api/events?' + params.toString()).then(renderEvents);
  }

  function refresh() {
    return Promise.all([api('/api/status').then(renderStatus), loadEvents()]).then(function () {
      $('notice').hidden = true;
      $('refreshed').textContent = 'Updated ' + new Date().toLocaleTimeString();
    }, failed);
  }

  function start() {
    show(true);
    clearInterval(state.timer);
    state.timer = setInterval(function () { if (!document.hidden && state.page === 0) refresh(); }, 15000);
    return refresh();
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('signin-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var value = $('token').value.trim();
      if (!value) { $('signin-error').textContent = 'Enter the bearer token.'; $('signin-error').hidden = false; return; }
      try { sessionStorage.setItem(KEY, value); } catch (e) { /* storage disabled: signed in until reload */ }
      $('token').value = '';
      $('signin-error').hidden = true;
      start().then(function () { if (token()) $('main').focus(); });
    });
    $('signout').addEventListener('click', function () { signOut('Signed out.'); });
    $('refresh').addEventListener('click', function () { refresh(); });
    $('filter').addEventListener('submit', function (event) {
      event.preventDefault();
      state.outcome = $('f-outcome').value;
      state.q = $('f-q').value.trim();
      state.cursors = [undefined];
      state.page = 0;
      loadEvents().catch(failed);
    });
    $('older').addEventListener('click', function () {
      if (state.next === null) return;
      state.cursors[state.page + 1] = state.next;
      state.page++;
      loadEvents().catch(failed);
    });
    $('newer').addEventListener('click', function () {
      if (state.page === 0) return;
      state.page--;
      loadEvents().catch(failed);
    });
    if (token()) start(); else show(false);
  });
})();
`;

/** Registers the page and its two assets. They hold no data: everything comes from the authenticated API. */
export function registerStatusPage(app: FastifyInstance): void {
  for (const path of STATUS_PAGE_PATHS.page) {
    app.get(path, async (_request, reply) => reply.type('text/html; charset=utf-8').send(HTML));
  }
  app.get(STATUS_PAGE_PATHS.script, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(JS));
  app.get(STATUS_PAGE_PATHS.style, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(CSS));
}
