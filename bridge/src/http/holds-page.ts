/**
 * The status page's part for the deprovisioning guard: a banner across the top of the dashboard while a hold is
 * active (what was held, from which source, the people affected), with release and discard behind an explicit
 * confirmation. Its own script and stylesheet, served by the bridge (the page's Content-Security-Policy allows
 * nothing inline), reading the same token the page signed in with; everything is rendered with textContent.
 */
import type { FastifyInstance } from 'fastify';

export const HOLDS_PAGE_PATHS = { script: '/app/holds.js', style: '/app/holds.css' } as const;

const CSS = `.holds-banner{border:4px solid var(--bad,#a4161a);background:#fde7e7;color:#3b0a0b;border-radius:.5rem;padding:1rem 1.25rem;margin:0 0 1.5rem}
@media (prefers-color-scheme:dark){.holds-banner{background:#3b0a0b;color:#ffe4e1}}
.holds-banner h2{margin:0 0 .5rem;font-size:1.375rem}
.holds-banner .hold{border-top:1px solid currentColor;padding-top:.75rem;margin-top:.75rem}
.holds-banner ul{max-height:16rem;overflow:auto;margin:.5rem 0;padding-left:1.25rem}
.holds-banner .actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:.5rem}
.holds-banner .discard{background:#5c1010;border-color:#5c1010;color:#fff}
.holds-banner .confirm{border:2px dashed currentColor;padding:.75rem;margin-top:.75rem;border-radius:.25rem}
`;

// Plain ES2020 for the browser, like the page's own script.
const JS = `(function () {
  'use strict';
  var KEY = 'scim-bridge-token';
  var timer = 0;
  function token() { try { return sessionStorage.getItem(KEY); } catch (e) { return null; } }
  function call(method, path) {
    return fetch(path, { method: method, headers: { authorization: 'Bearer ' + token(), accept: 'application/json' }, cache: 'no-store', credentials: 'omit' })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (res.ok) return body;
          throw new Error(body && body.detail ? body.detail : 'The bridge answered ' + res.status);
        });
      });
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function banner() {
    var node = document.getElementById('holds-banner');
    if (node) return node;
    node = el('section', undefined, 'holds-banner');
    node.id = 'holds-banner';
    node.setAttribute('role', 'alert');
    node.setAttribute('aria-labelledby', 'holds-title');
    node.hidden = true;
    var dashboard = document.getElementById('dashboard');
    dashboard.insertBefore(node, dashboard.firstChild);
    return node;
  }
  function decide(hold, action, box) {
    box.replaceChildren();
    var verb = action === 'release' ? 'Release' : 'Discard';
    var confirm = el('div', undefined, 'confirm');
    confirm.setAttribute('role', 'group');
    confirm.setAttribute('aria-label', verb + ' hold ' + hold.id);
    confirm.appendChild(el('p', action === 'release'
      ? 'Release hold ' + hold.id + '? The application receives the net change of its ' + hold.changes + ' held changes: ' + hold.people + ' people lose access.'
      : 'Discard hold ' + hold.id + '? Its ' + hold.changes + ' held changes never reach the application; the directory keeps them.'));
    var yes = el('button', 'Yes, ' + action + ' hold ' + hold.id, action === 'discard' ? 'discard' : '');
    yes.type = 'button';
    var no = el('button', 'Cancel');
    no.type = 'button';
    var result = el('p');
    result.setAttribute('aria-live', 'polite');
    yes.addEventListener('click', function () {
      yes.disabled = true;
      call('POST', '/api/holds/' + hold.id + '/' + action).then(function (d) {
        result.textContent = (action === 'release' ? 'Released' : 'Discarded') + ' hold ' + hold.id + ': ' + d.held + ' held changes, ' + d.delivered + ' delivered.';
        setTimeout(load, 1500);
      }, function (error) { yes.disabled = false; result.textContent = error.message; result.className = 'error'; });
    });
    no.addEventListener('click', function () { box.replaceChildren(); });
    var row = el('div', undefined, 'actions');
    row.appendChild(yes);
    row.appendChild(no);
    confirm.appendChild(row);
    confirm.appendChild(result);
    box.appendChild(confirm);
    yes.focus();
  }
  function render(details) {
    var node = banner();
    if (details.length === 0) { node.hidden = true; node.replaceChildren(); return; }
    if (node.querySelector('.confirm')) return; // an operator is deciding: do not redraw under them
    node.replaceChildren();
    var people = details.reduce(function (n, d) { return n + d.hold.people; }, 0);
    var title = el('h2', 'Deprovisioning held: ' + people + ' people are waiting for your decision');
    title.id = 'holds-title';
    node.appendChild(title);
    node.appendChild(el('p', 'The identity provider already removed them from the directory; the application has not heard of it. Release to deliver the changes, or discard them if the burst was a mistake (then fix it at the identity provider). Deciding needs an operator token (scim-bridge session rotate --scope operate).'));
    details.forEach(function (d) {
      var h = d.hold;
      var part = el('div', undefined, 'hold');
      part.appendChild(el('h3', 'Hold ' + h.id + ' from ' + h.actor + ', started ' + new Date(h.startedAt).toLocaleString()));
      part.appendChild(el('p', h.reason + '. ' + h.changes + ' changes held.'));
      var list = el('ul');
      list.setAttribute('aria-label', 'People affected by hold ' + h.id);
      d.people.forEach(function (p) { list.appendChild(el('li', (p.userName || p.id) + ': ' + p.change)); });
      if (d.truncated) list.appendChild(el('li', '… and more (see scim-bridge holds show ' + h.id + ')'));
      part.appendChild(list);
      var actions = el('div', undefined, 'actions');
      var box = el('div');
      ['release', 'discard'].forEach(function (action) {
        var button = el('button', (action === 'release' ? 'Release' : 'Discard') + ' hold ' + h.id + '…', action === 'discard' ? 'discard' : '');
        button.type = 'button';
        button.addEventListener('click', function () { decide(h, action, box); });
        actions.appendChild(button);
      });
      part.appendChild(actions);
      part.appendChild(box);
      node.appendChild(part);
    });
    node.hidden = false;
  }
  function load() {
    var dashboard = document.getElementById('dashboard');
    if (!token() || !dashboard || dashboard.hidden) return Promise.resolve();
    return call('GET', '/api/holds').then(function (body) {
      var active = body.holds.filter(function (h) { return h.state === 'active'; });
      return Promise.all(active.map(function (h) { return call('GET', '/api/holds/' + h.id); }));
    }).then(render, function () { /* the page's own notice reports an unreachable bridge */ });
  }
  document.addEventListener('DOMContentLoaded', function () {
    load();
    timer = setInterval(function () { if (!document.hidden) load(); }, 5000);
    var form = document.getElementById('signin-form');
    if (form) form.addEventListener('submit', function () { setTimeout(load, 0); });
    var refresh = document.getElementById('refresh');
    if (refresh) refresh.addEventListener('click', function () { load(); });
  });
  window.addEventListener('pagehide', function () { clearInterval(timer); });
})();
`;

export function registerHoldsPage(app: FastifyInstance): void {
  app.get(HOLDS_PAGE_PATHS.script, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(JS));
  app.get(HOLDS_PAGE_PATHS.style, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(CSS));
}
