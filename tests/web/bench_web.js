// bench_web.js MODE - the browser half of tests/bench/bench_web.sh (figures,
// never pass/fail).  Debian's chromium headless via puppeteer-core.
//   render N  : N loads of URL/ : navigation timing (responseStart, DOM
//               content loaded, load end), printed as "render KEY MS ..."
//   sse N     : one page on URL/alarms; toggles the simulator's map between
//               COLD_MAP and HOT_MAP (SIM_MAP, SIM_PID) until N alarm events
//               arrived; prints each event's sample -> browser delay in ms
//   pages N   : opens N pages of URL/ (each with its live stream) and keeps
//               them until stdin closes; prints "open N" when they are
'use strict';
const fs = require('fs');
const puppeteer = require('puppeteer-core');
const E = process.env;
const [mode, nArg] = process.argv.slice(2);
const N = parseInt(nArg || '10', 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function render(browser) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.goto(E.URL + '/', { waitUntil: 'load' }); // warm
  for (let i = 0; i < N; i++) {
    await page.goto(E.URL + '/?r=' + i, { waitUntil: 'load' });
    const t = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return [n.responseStart - n.requestStart, n.domContentLoadedEventEnd - n.startTime, n.loadEventEnd - n.startTime,
        document.querySelectorAll('section.tile').length, document.querySelectorAll('li.lot').length];
    });
    console.log('render ' + t.map((x) => (typeof x === 'number' ? x.toFixed(1) : x)).join(' '));
  }
}

async function sse(browser) {
  const page = await browser.newPage();
  await page.exposeFunction('ccBench', (d) => console.log('sse ' + d));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('cc:live', (e) => {
      if (e.detail.type !== 'alarm') return;
      try { window.ccBench((e.detail.at - JSON.parse(e.detail.data).time_ns / 1e6).toFixed(1)); } catch (x) { /* */ }
    });
  });
  let got = 0;
  page.on('console', () => {});
  await page.goto(E.URL + '/alarms', { waitUntil: 'load' });
  await sleep(1500);
  const count = () => page.evaluate(() => window.ccN || 0);
  await page.evaluate(() => { window.ccN = 0; document.addEventListener('cc:live', (e) => { if (e.detail.type === 'alarm') window.ccN++; }); });
  let hot = false;
  const deadline = Date.now() + 240000;
  while ((got = await count()) < N && Date.now() < deadline) {
    hot = !hot;
    fs.writeFileSync(E.SIM_MAP, hot ? E.HOT_MAP : E.COLD_MAP);
    process.kill(parseInt(E.SIM_PID, 10), 'SIGHUP');
    const before = got;
    const until = Date.now() + 15000;
    while (Date.now() < until && (await count()) < before + parseInt(E.ROOMS || '50', 10)) await sleep(200);
    await sleep(500);
  }
}

async function pages(browser) {
  const list = [];
  for (let i = 0; i < N; i++) {
    // a context each, as 20 devices: one browser keeps 6 connections per
    // host (HTTP/1.1), and each open page holds one for its stream
    const ctx = await browser.createBrowserContext();
    const p = await ctx.newPage();
    await p.goto(E.URL + '/', { waitUntil: 'load' });
    list.push(p);
  }
  console.log('open ' + list.length);
  await new Promise((r) => { process.stdin.on('end', r); process.stdin.on('close', r); process.stdin.resume(); });
}

(async () => {
  const browser = await puppeteer.launch({ executablePath: E.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
  try {
    if (mode === 'render') await render(browser);
    else if (mode === 'sse') await sse(browser);
    else if (mode === 'pages') await pages(browser);
  } catch (e) {
    console.log('error ' + (e && e.message || e));
  } finally {
    await browser.close();
  }
})();
