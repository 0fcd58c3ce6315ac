// The browser test of issue 15 (run by
// tests/integration/test_web_alarm_appears_live_and_is_acked_in_chromium.sh):
// Debian's chromium headless, driven by puppeteer-core.  Prints one line per
// check, "ok MSG" or "not ok MSG", and "value KEY VALUE" for figures; the
// shell script counts them.  Environment: URL, OP_USER/OP_PASS,
// VIEW_USER/VIEW_PASS, SIM_MAP + SIM_PID (to drive room A hot), HOT_MAP
// (its text), ON_DELAY_MS, SHOTS (directory), ALARM (id), NOTE.
'use strict';
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

const E = process.env;
const URL = E.URL;
let failures = 0;
const ok = (c, msg) => { console.log((c ? 'ok ' : 'not ok ') + msg); if (!c) failures++; };
const value = (k, v) => console.log('value ' + k + ' ' + v);

async function login(page, user, pass) {
  await page.goto(URL + '/login', { waitUntil: 'load' });
  await page.type('#login input[name=user]', user);
  await page.type('#login input[name=password]', pass);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#login button[type=submit]')]);
  return !page.url().includes('/login');
}

async function noOverflow(page, w, h, name) {
  await page.setViewport({ width: w, height: h });
  const fits = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  const file = path.join(E.SHOTS, name + '-' + w + 'x' + h + '.png');
  await page.screenshot({ path: file, fullPage: true });
  ok(fits[0] <= fits[1], name + ' at ' + w + 'x' + h + ': scrollWidth ' + fits[0] + ' <= innerWidth ' + fits[1] + ' (' + file + ')');
}

async function overview(page) {
  await page.goto(URL + '/', { waitUntil: 'load' });
  const t = await page.$eval('#tile-A .temp', (e) => [e.dataset.value, e.textContent]).catch(() => null);
  const rh = await page.$eval('#tile-A .rh', (e) => e.dataset.value).catch(() => null);
  ok(t && Math.abs(parseFloat(t[0]) - 4.0) < 0.01, 'tile A temperature is the simulator\'s 4.0: ' + JSON.stringify(t));
  ok(t && /4,0\s*°C/.test(t[1]), 'tile A shows 4,0 °C (Vietnamese decimal comma): ' + (t && t[1]));
  ok(rh && Math.abs(parseFloat(rh) - 92) < 0.01, 'tile A RH is the simulator\'s 92: ' + rh);
  await noOverflow(page, 360, 740, 'overview');
  await noOverflow(page, 1280, 800, 'overview');
}

// Room A hot; the row turns active in the open /alarms page without a reload.
async function alarmLive(page) {
  const sel = 'tr[data-alarm="' + E.ALARM + '"]';
  await page.goto(URL + '/alarms', { waitUntil: 'load' });
  await page.evaluate(() => { window.ccNoReload = 1; });
  fs.writeFileSync(E.SIM_MAP, E.HOT_MAP);
  process.kill(parseInt(E.SIM_PID, 10), 'SIGHUP');
  const seen = await page.waitForFunction((s) => {
    const r = document.querySelector(s + '[data-state="active"]');
    return r ? Date.now() : null;
  }, { polling: 'mutation', timeout: 60000 }, sel).then((h) => h.jsonValue()).catch(() => null);
  ok(seen !== null, 'the alarm row turned active in the open page');
  ok(await page.evaluate(() => window.ccNoReload === 1), 'without a reload (the page\'s own state survived)');
  value('seen_ms', seen);
}

// While a note is being typed a tick refreshes nothing; a POST without the
// token is refused; then the ack with its note.
async function ack(page) {
  const sel = 'tr[data-alarm="' + E.ALARM + '"]';
  const forged = await page.evaluate(async (id) => {
    const r = await fetch('/alarms/ack', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'id=' + encodeURIComponent(id) + '&note=forged', redirect: 'manual' });
    return r.status;
  }, E.ALARM);
  ok(forged === 403, 'a POST from the page without the CSRF token is refused: ' + forged);
  await page.reload({ waitUntil: 'load' });
  ok(await page.$eval(sel, (r) => r.dataset.state) === 'active', 'the forged ack changed nothing');
  const area = sel + ' form.ack textarea[name=note]';
  await page.type(area, E.NOTE.slice(0, 5));
  const tick = page.evaluate(() => new Promise((res) => {
    document.addEventListener('cc:live', (e) => res(e.detail.type), { once: true });
  }));
  const t = await Promise.race([tick, new Promise((r) => setTimeout(() => r(null), 20000))]);
  await new Promise((r) => setTimeout(r, 700));
  const kept = await page.$eval(area, (e) => [e.value, e === document.activeElement]).catch(() => null);
  ok(t && kept && kept[0] === E.NOTE.slice(0, 5) && kept[1],
    'a live event (' + t + ') while typing the note keeps the text and the focus: ' + JSON.stringify(kept));
  await page.type(area, E.NOTE.slice(5));
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(sel + ' form.ack button[type=submit]')]);
  const st = await page.$eval(sel, (r) => r.dataset.state).catch(() => null);
  ok(st === 'acked', 'after the ack the row is acked: ' + st);
  await noOverflow(page, 360, 740, 'alarms');
  await noOverflow(page, 1280, 800, 'alarms');
}

async function viewer(browser) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  ok(await login(page, E.VIEW_USER, E.VIEW_PASS), 'the viewer logs in');
  await page.goto(URL + '/alarms', { waitUntil: 'load' });
  const rows = await page.$$eval('#alarms tr[data-alarm]', (r) => r.length);
  const forms = await page.$$eval('#alarms form.ack, #alarms form.shelve, #alarms form.unshelve', (f) => f.length);
  ok(rows > 0 && forms === 0, 'a viewer sees the alarms (' + rows + ' rows) and no ack or shelve button (' + forms + ')');
  await ctx.close();
}

// The #live-status line while the daemon is down (the shell stops it after
// "ready" and starts it again after the banner showed); back up, the page
// follows: its session ended with the restart, so it goes to /login.
async function banner(browser) {
  const page = await browser.newPage();
  ok(await login(page, E.OP_USER, E.OP_PASS), 'the operator logs in (banner)');
  await page.goto(URL + '/', { waitUntil: 'load' });
  const tick = await page.evaluate(() => new Promise((res) => {
    document.addEventListener('cc:live', () => res(true), { once: true });
    setTimeout(() => res(false), 20000);
  }));
  ok(tick && await page.$eval('#live-status', (b) => b.hidden), 'the stream is up and #live-status hidden');
  console.log('ready');
  const shown = await page.waitForFunction(() => {
    const b = document.getElementById('live-status');
    return b && !b.hidden && b.offsetHeight > 0 ? b.textContent : null;
  }, { timeout: 60000, polling: 200 }).then((h) => h.jsonValue()).catch(() => null);
  ok(shown, 'the daemon stopped: #live-status shows "' + shown + '"');
  console.log('down-seen');
  const back = await page.waitForFunction(() => location.pathname === '/login', { timeout: 90000, polling: 500 })
    .then(() => true).catch(() => false);
  ok(back, 'the daemon back (a new process: the session ended): the page went to /login by itself');
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: E.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--lang=vi'],
  });
  try {
    if (process.argv[2] === 'banner') {
      await banner(browser);
      return;
    }
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.setExtraHTTPHeaders({ 'Accept-Language': 'vi' });
    ok(await login(page, E.OP_USER, E.OP_PASS), 'the operator logs in');
    await overview(page);
    await alarmLive(page);
    await ack(page);
    await viewer(browser);
  } catch (e) {
    ok(false, 'exception: ' + (e && e.stack || e));
  } finally {
    await browser.close();
  }
  process.exit(failures ? 1 : 0);
})();
