/* live.js - live updates of a coldchaind page.  Listens to /events
 * (Server-Sent Events); on any event refetches this page's <main id="main">
 * (X-Fragment: main) and swaps it in, except while the operator is typing
 * in a form inside it (then after blur or submit).  Shows #live-status while
 * the stream is down; EventSource reconnects on its own, and a stream the
 * server refused (closed) is retried here with a growing delay. */
(function () {
  'use strict';
  var main = document.getElementById('main');
  if (!main || !window.EventSource || !window.fetch || document.getElementById('login')) return;

  var vi = (document.documentElement.lang || 'vi').slice(0, 2) !== 'en';
  var words = vi ? { down: 'Mất kết nối — đang kết nối lại…' } : { down: 'Disconnected — reconnecting…' };
  /* the page brings #live-status with its own words; these only if not */
  var es = null, retryMs = 3000, retryTimer = null;
  var down = false, busy = false, again = false, pending = false, edited = false;

  function banner(show) {
    var b = document.getElementById('live-status');
    if (!b && !show) return;
    if (!b) {
      b = document.createElement('div');
      b.id = 'live-status';
      b.setAttribute('role', 'status');
      b.setAttribute('aria-live', 'polite');
      b.textContent = words.down;
      document.body.insertBefore(b, document.body.firstChild);
    }
    b.hidden = !show;
  }

  /* A form field in #main has focus, or was typed into since the last swap. */
  function editing() {
    var a = document.activeElement;
    if (edited) return true;
    return !!(a && a !== main && main.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName));
  }

  function refresh() {
    if (editing()) { pending = true; return; }
    if (busy) { again = true; return; }
    busy = true;
    pending = false;
    fetch(location.pathname + location.search, {
      headers: { 'X-Fragment': 'main' }, credentials: 'same-origin', cache: 'no-store', redirect: 'follow'
    }).then(function (r) {
      /* the session ended: 401 to a fragment request (a redirect to the
         login page, should a proxy turn it into one) */
      if (r.status === 401 || (r.redirected && /\/login/.test(r.url))) {
        location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
        return null;
      }
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html === null || html === undefined) return;
      if (editing()) { pending = true; return; }
      main.innerHTML = html;
      document.dispatchEvent(new CustomEvent('cc:swapped', { detail: { at: Date.now() } }));
    }).catch(function () { /* the stream's error handler shows the banner */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function onEvent(ev) {
    document.dispatchEvent(new CustomEvent('cc:live', { detail: { type: ev.type, data: ev.data, at: Date.now() } }));
    refresh();
  }

  function connect() {
    retryTimer = null;
    if (es) es.close();
    es = new EventSource('/events');
    es.addEventListener('open', function () {
      retryMs = 3000;
      if (down) {
        down = false;
        banner(false);
        refresh(); /* events may have been missed while down */
      }
    });
    es.addEventListener('error', function () {
      down = true;
      banner(true);
      if (es.readyState === EventSource.CLOSED && !retryTimer) {
        /* refused (503 past the cap, or the session ended: a 303 to the
         * login page): EventSource gives up.  A fetch tells which; it goes
         * to /login when that is why */
        refresh();
        retryTimer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 60000);
      }
    });
    ['alarm', 'tick', 'resync'].forEach(function (t) { es.addEventListener(t, onEvent); });
  }

  main.addEventListener('input', function (e) {
    if (main.contains(e.target) && e.target.form) edited = true;
  });
  main.addEventListener('focusout', function () {
    setTimeout(function () { if (pending && !editing()) refresh(); }, 0);
  });
  document.addEventListener('submit', function () { edited = false; pending = false; }, true);
  window.addEventListener('pagehide', function () { if (es) es.close(); });
  connect();
}());
