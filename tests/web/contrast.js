// Text contrast, WCAG 2.x AA (run by
// tests/integration/test_web_text_contrast_meets_wcag_aa_in_chromium.sh):
// on the login, overview, alarms, room and an error page, at 360x740 and
// 1280x800, every visible element with text of its own (and every form
// control, SVG text) has a contrast ratio of its colour against its
// effective background (the first opaque background up its ancestors,
// translucent ones composited) of at least 4.5, or 3 for large text
// (>= 24 px, or bold >= 18.66 px); the #live-status line shown as well.  States carry a word, not colour alone:
// every tile's data-state has a non-empty .state word, every alarm row a
// state word.  Prints "ok MSG" / "not ok MSG".  Environment: URL, OP_USER,
// OP_PASS, CHROMIUM.
'use strict';
const puppeteer = require('puppeteer-core');

const E = process.env;
let failures = 0;
const ok = (c, msg) => { console.log((c ? 'ok ' : 'not ok ') + msg); if (!c) failures++; };

// Runs in the page: the elements whose contrast is below its minimum.
function lowContrast() {
  const parse = (s) => {
    const m = s && s.match(/rgba?\(([\d.]+)[, ]+([\d.]+)[, ]+([\d.]+)(?:[, /]+([\d.]+))?\)/);
    return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : null;
  };
  const over = (top, bot) => [0, 1, 2].map((i) => top[i] * top[3] + bot[i] * (1 - top[3])).concat(1);
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1]; // the canvas
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const visible = (el) => {
    const s = getComputedStyle(el);
    return el.getClientRects().length > 0 && s.visibility !== 'hidden' && s.display !== 'none' && +s.opacity > 0;
  };
  const ownText = (el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
  const bad = [];
  let checked = 0;
  for (const el of document.querySelectorAll('body *')) {
    const control = /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(el.tagName) && el.type !== 'hidden';
    if (!(ownText(el) || control) || !visible(el) || /^(SCRIPT|STYLE|OPTION)$/.test(el.tagName)) continue;
    const s = getComputedStyle(el);
    const svg = el instanceof SVGElement;
    let fg = parse(svg && s.fill && s.fill !== 'none' ? s.fill : s.color);
    if (!fg) continue;
    const bg = background(svg ? el.ownerSVGElement || el : el);
    fg = over(fg, bg);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const px = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const need = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
    checked++;
    if (ratio < need) {
      bad.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + el.className : '') +
        ' "' + (el.textContent || el.value || '').trim().slice(0, 30) + '" ' + s.color + ' on rgb(' +
        bg.slice(0, 3).map(Math.round).join(',') + ') ' + ratio.toFixed(2) + ' < ' + need);
    }
  }
  return { checked, bad };
}

async function check(page, path, name) {
  for (const [w, h] of [[360, 740], [1280, 800]]) {
    await page.setViewport({ width: w, height: h });
    await page.goto(E.URL + path, { waitUntil: 'load' });
    // the "disconnected" line too, shown as it is while the stream is down
    await page.evaluate(() => { const l = document.getElementById('live-status'); if (l) l.hidden = false; });
    const r = await page.evaluate(lowContrast);
    ok(r.checked > 2 && r.bad.length === 0, name + ' at ' + w + 'px: ' + r.checked + ' text elements, contrast below AA: ' +
      (r.bad.length ? r.bad.join('; ') : 'none'));
  }
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: E.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--lang=vi'],
  });
  try {
    const page = await browser.newPage();
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'vi' });
    await check(page, '/login', 'login');
    await page.goto(E.URL + '/login', { waitUntil: 'load' });
    await page.type('#login input[name=user]', E.OP_USER);
    await page.type('#login input[name=password]', E.OP_PASS);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#login button[type=submit]')]);
    ok(!page.url().includes('/login'), 'the operator logs in');
    await check(page, '/', 'overview');
    const tiles = await page.$$eval('.tile', (ts) => ts.map((t) => [t.dataset.state, (t.querySelector('.state') || {}).textContent || '']));
    ok(tiles.length === 3 && tiles.every((t) => t[1].trim().length > 0), 'every tile states its state in words: ' + JSON.stringify(tiles));
    ok(['critical', 'warning'].every((s) => tiles.some((t) => t[0] === s)), 'the overview has a critical and a warning tile');
    await check(page, '/alarms', 'alarms');
    const rows = await page.$$eval('#alarms tbody tr', (rs) => rs.map((r) => [r.dataset.state, r.dataset.severity, r.cells[1].textContent, r.cells[2].textContent]));
    ok(['active', 'shelved'].every((s) => rows.some((r) => r[0] === s)) && rows.some((r) => r[1] === 'critical') && rows.some((r) => r[1] === 'warning'),
      'the alarms page has critical and warning active rows and a shelved one: ' + JSON.stringify(rows));
    ok(rows.every((r) => r[2].trim() && r[3].trim()), 'every alarm row states its state and severity in words');
    await check(page, '/room/A', 'room A (critical)');
    await check(page, '/room/C', 'room C (shelved)');
    await check(page, '/no/such/page', 'the 404 page');
  } catch (e) {
    ok(false, 'exception: ' + (e && e.stack || e));
  } finally {
    await browser.close();
  }
  process.exit(failures ? 1 : 0);
})();
