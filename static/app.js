/* app.js - small helpers for the status page (no framework; the CSP allows
 * only scripts from this site).  The live updater is static/live.js. */
'use strict';
document.addEventListener('click', function (ev) {
	var b = ev.target.closest && ev.target.closest('button[data-copy]');
	if (!b || !navigator.clipboard) return;
	var el = document.getElementById(b.getAttribute('data-copy'));
	if (el) navigator.clipboard.writeText(el.textContent);
});
