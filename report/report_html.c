/* report_html.c - `coldchainctl report --format html`: one self-contained
 * page (inline CSS and SVG, nothing loaded from the network) that prints on
 * A4: the EN 12830-style header, the sensors, a chart of air temperature and
 * RH against the storage band with the alarms marked, the lot figures, the
 * stays, the alarms with their acknowledgements, the gaps and the profile's
 * graded numbers. */
#include "report.h"
#include "report_labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/svg_trend.h" /* svg_esc: one escaper for the report and the pages */
#include "../daemon/models/cooling.h"
#include "../daemon/util.h"

static void html_time(int64_t ms, char *buf, size_t len);

#define CHART_W 1000
#define CHART_H 360
#define CHART_MAX_POINTS 1500

struct axis {
	int64_t t0, t1;
	double lo, hi; /* left: temperature */
	double rlo, rhi; /* right: RH */
	double x0, y0, w, h;
};

static double ax_x(const struct axis *a, int64_t t)
{
	return a->x0 + a->w * (double)(t - a->t0) / (double)(a->t1 > a->t0 ? a->t1 - a->t0 : 1);
}

static double ax_y(const struct axis *a, double v, int right)
{
	double lo = right ? a->rlo : a->lo, hi = right ? a->rhi : a->hi;
	return a->y0 + a->h - a->h * (v - lo) / (hi - lo);
}

/* One polyline per run of good samples without a gap; at most
 * CHART_MAX_POINTS points per series (min and max of each bucket). */
static void svg_series(FILE *o, const struct axis *a, const struct report_series *s, int right, const char *cls)
{
	size_t stride = s->n / (CHART_MAX_POINTS / 2) + 1, npts = 0;
	int64_t cap = s->interval_ms > 0 ? REPORT_GAP_INTERVALS * s->interval_ms : INT64_MAX;
	int open = 0;
	int64_t prev_t = 0;

	for (size_t i = 0; i < s->n; i += stride) {
		size_t lo_i = (size_t)-1, hi_i = (size_t)-1, end = i + stride < s->n ? i + stride : s->n;
		for (size_t j = i; j < end; j++) {
			if (s->s[j].q != REPORT_Q_GOOD) {
				continue;
			}
			if (lo_i == (size_t)-1 || s->s[j].v < s->s[lo_i].v)
				lo_i = j;
			if (hi_i == (size_t)-1 || s->s[j].v > s->s[hi_i].v)
				hi_i = j;
		}
		int bad = 0;
		for (size_t j = i; j < end; j++)
			bad |= s->s[j].q != REPORT_Q_GOOD;
		if (lo_i == (size_t)-1 || (open && s->s[i].t - prev_t > cap * (int64_t)stride) || (bad && stride == 1)) {
			if (open)
				fputs("\"/>\n", o);
			open = 0;
			if (lo_i == (size_t)-1)
				continue;
		}
		if (!open) {
			fprintf(o, "<polyline class=\"%s\" points=\"", cls);
			open = 1;
		}
		size_t first = lo_i < hi_i ? lo_i : hi_i, second = lo_i < hi_i ? hi_i : lo_i;
		fprintf(o, "%.1f,%.1f ", ax_x(a, s->s[first].t), ax_y(a, s->s[first].v, right));
		npts++;
		if (second != first) {
			fprintf(o, "%.1f,%.1f ", ax_x(a, s->s[second].t), ax_y(a, s->s[second].v, right));
			npts++;
		}
		prev_t = s->s[end - 1].t;
	}
	if (open)
		fputs("\"/>\n", o);
	(void)npts;
}

/* The axes' ranges: the readings and the band, with a margin. */
static void svg_scale(const struct report *r, struct axis *a)
{
	double lo = INFINITY, hi = -INFINITY, rlo = INFINITY;

	for (size_t i = 0; i < r->nstays; i++) {
		const struct report_stay *s = &r->stays[i];
		if (s->ts.n) {
			lo = fmin(lo, s->ts.min);
			hi = fmax(hi, s->ts.max);
		}
		if (s->hs.n)
			rlo = fmin(rlo, s->hs.min);
	}
	if (!isnan(r->band_low))
		lo = fmin(lo, r->band_low);
	if (!isnan(r->band_high))
		hi = fmax(hi, r->band_high);
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 0;
		hi = 10;
	}
	a->lo = floor(lo - 1);
	a->hi = ceil(hi + 1);
	a->rlo = isfinite(rlo) ? floor(fmin(rlo, 80) / 10) * 10 : 0;
	a->rhi = 100;
}

/* The frame, the band, the ticks and the axis labels. */
static void svg_frame(const struct report *r, const struct axis *a, FILE *o)
{
	char buf[64];

	fprintf(o, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
		   "aria-label=\"air temperature and relative humidity against the storage band\">\n",
		CHART_W, CHART_H);
	fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>\n", a->x0, a->y0, a->w,
		a->h);
	if (!isnan(r->band_low) && !isnan(r->band_high))
		fprintf(o, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", a->x0,
			ax_y(a, r->band_high, 0), a->w, ax_y(a, r->band_low, 0) - ax_y(a, r->band_high, 0));
	/* temperature ticks, left; RH ticks, right */
	double step = (a->hi - a->lo) > 20 ? 5 : (a->hi - a->lo) > 8 ? 2 : 1;
	for (double v = ceil(a->lo / step) * step; v <= a->hi; v += step) {
		double y = ax_y(a, v, 0);
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", a->x0, y, a->x0 + a->w,
			y);
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", a->x0 - 6, y + 4,
			v);
	}
	for (double v = a->rlo; v <= a->rhi; v += 10)
		fprintf(o, "<text class=\"tick rh\" x=\"%.1f\" y=\"%.1f\">%g</text>\n", a->x0 + a->w + 6,
			ax_y(a, v, 1) + 4, v);
	for (int k = 0; k <= 4; k++) {
		int64_t t = a->t0 + (a->t1 - a->t0) * k / 4;
		html_time(t, buf, sizeof(buf));
		if (a->t1 - a->t0 >= 7200000 && strlen(buf) > 19) /* seconds only on a short period */
			memmove(buf + 16, buf + 19, strlen(buf + 19) + 1);
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", ax_x(a, t),
			a->y0 + a->h + 18, k == 0 ? "start" : k == 4 ? "end" : "middle", buf);
	}
	fprintf(o, "<text class=\"label\" x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
		   "text-anchor=\"middle\">air temperature °C</text>\n",
		a->y0 + a->h / 2, a->y0 + a->h / 2);
	fprintf(o, "<text class=\"label rh\" x=\"%d\" y=\"%.1f\" transform=\"rotate(90 %d %.1f)\" "
		   "text-anchor=\"middle\">RH %%</text>\n",
		CHART_W - 12, a->y0 + a->h / 2, CHART_W - 12, a->y0 + a->h / 2);
}

/* Per stay: where the lot moved, the room, its series; the alarm markers. */
static void svg_marks(const struct report *r, const struct axis *a, FILE *o)
{
	for (size_t i = 0; i < r->nstays; i++) {
		const struct report_stay *s = &r->stays[i];
		if (i > 0)
			fprintf(o, "<line class=\"move\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
				ax_x(a, s->from), a->y0, ax_x(a, s->from), a->y0 + a->h);
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">room ", ax_x(a, s->from) + 4, a->y0 + 14);
		svg_esc(o, s->room);
		fputs("</text>\n", o);
		if (s->have_rh)
			svg_series(o, a, &s->rh, 1, "rh");
		if (s->have_temp)
			svg_series(o, a, &s->temp, 0, "temp");
	}
	for (size_t i = 0; i < r->nalarms; i++) {
		const struct report_alarm *al = &r->alarms[i];
		if (al->e.raised_before)
			continue;
		double x = ax_x(a, al->e.raised_ms);
		fprintf(o, "<path class=\"alarm\" d=\"M%.1f %.1f l-5 -9 h10 z\"><title>", x, a->y0 + a->h);
		svg_esc(o, al->e.id);
		fputs("</title></path>\n", o);
	}
}

static void svg_legend(const struct axis *a, FILE *o)
{
	fprintf(o, "<g class=\"legend\"><line class=\"temp\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
		   "<text x=\"%.1f\" y=\"%d\">air temperature</text>"
		   "<line class=\"rh\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
		   "<text x=\"%.1f\" y=\"%d\">RH</text>"
		   "<rect class=\"band\" x=\"%.1f\" y=\"%d\" width=\"20\" height=\"10\"/>"
		   "<text x=\"%.1f\" y=\"%d\">storage band</text>"
		   "<path class=\"alarm\" d=\"M%.1f %d l-5 -9 h10 z\"/><text x=\"%.1f\" y=\"%d\">alarm raised</text></g>\n",
		a->x0, CHART_H - 12, a->x0 + 20, CHART_H - 12, a->x0 + 26, CHART_H - 8, a->x0 + 160, CHART_H - 12,
		a->x0 + 180, CHART_H - 12, a->x0 + 186, CHART_H - 8, a->x0 + 240, CHART_H - 21, a->x0 + 266, CHART_H - 8,
		a->x0 + 380, CHART_H - 8, a->x0 + 390, CHART_H - 8);
}

static void write_svg(const struct report *r, FILE *o)
{
	struct axis a = { .t0 = r->from, .t1 = r->to, .x0 = 60, .y0 = 20, .w = CHART_W - 120, .h = CHART_H - 70 };

	svg_scale(r, &a);
	svg_frame(r, &a, o);
	svg_marks(r, &a, o);
	svg_legend(&a, o);
	fputs("</svg>\n", o);
}

/* --- processing steps ------------------------------------------------- */

#define COOL_W 640
#define COOL_H 280

struct cool_axis {
	double t1, lo, hi; /* hours 0..t1, °C lo..hi */
	double x0, y0, w, h;
};

static double cx(const struct cool_axis *a, double t) { return a->x0 + a->w * t / a->t1; }
static double cy(const struct cool_axis *a, double v) { return a->y0 + a->h - a->h * (v - a->lo) / (a->hi - a->lo); }

static void cool_scale(const struct report_step *st, struct cool_axis *a)
{
	a->t1 = 0;
	a->lo = INFINITY;
	a->hi = -INFINITY;
	for (size_t i = 0; i < st->npts; i++) {
		a->t1 = fmax(a->t1, st->pts[i].t_h);
		a->lo = fmin(a->lo, st->pts[i].t_c);
		a->hi = fmax(a->hi, st->pts[i].t_c);
	}
	if (isfinite(st->target_c))
		a->lo = fmin(a->lo, st->target_c);
	if (isfinite(st->tm_c))
		a->lo = fmin(a->lo, st->tm_c);
	a->lo = floor(a->lo - 1);
	a->hi = ceil(a->hi + 1);
	if (!(a->t1 > 0))
		a->t1 = 1;
}

static void cool_frame(const struct cool_axis *a, FILE *o)
{
	double step = (a->hi - a->lo) > 20 ? 5 : (a->hi - a->lo) > 8 ? 2 : 1;

	fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>\n", a->x0, a->y0, a->w,
		a->h);
	for (double v = ceil(a->lo / step) * step; v <= a->hi; v += step)
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/><text class=\"tick\" "
			   "x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			a->x0, cy(a, v), a->x0 + a->w, cy(a, v), a->x0 - 6, cy(a, v) + 4, v);
	for (int k = 0; k <= 4; k++)
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.2f h</text>\n",
			cx(a, a->t1 * k / 4), a->y0 + a->h + 16, a->t1 * k / 4);
	fprintf(o, "<text class=\"label\" x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
		   "text-anchor=\"middle\">pulp °C</text>\n",
		a->y0 + a->h / 2, a->y0 + a->h / 2);
}

static void cool_hline(const struct cool_axis *a, FILE *o, const char *cls, double v, const char *label)
{
	if (!isfinite(v) || v < a->lo || v > a->hi)
		return;
	fprintf(o, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/><text class=\"tick\" x=\"%.1f\" "
		   "y=\"%.1f\" text-anchor=\"end\">%s %.1f °C</text>\n",
		cls, a->x0, cy(a, v), a->x0 + a->w, cy(a, v), a->x0 + a->w - 4, cy(a, v) - 4, label, v);
}

/* The slowest probe's recorded points, the fitted curve
 * T(t) = Tm + (T0 - Tm)·j·e^(-C·t), the target and the medium. */
static void cool_svg(const struct report_step *st, FILE *o)
{
	struct cool_axis a = { .x0 = 56, .y0 = 14, .w = COOL_W - 80, .h = COOL_H - 70 };
	const struct report_cool_fit *f = &st->refit;

	cool_scale(st, &a);
	fputs("<svg class=\"cooling\" id=\"cool-", o);
	svg_esc(o, st->batch);
	fprintf(o, "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
		   "aria-label=\"cooling curve: slowest probe and fitted curve against the target\">\n",
		COOL_W, COOL_H);
	cool_frame(&a, o);
	cool_hline(&a, o, "cool-target", st->target_c, "target");
	cool_hline(&a, o, "cool-medium", st->tm_c, "medium");
	fputs("<polyline class=\"cool-obs\" points=\"", o);
	for (size_t i = 0; i < st->npts; i++)
		fprintf(o, "%s%.1f,%.1f", i ? " " : "", cx(&a, st->pts[i].t_h), cy(&a, st->pts[i].t_c));
	fputs("\"/>\n", o);
	if (f->n >= 2 && isfinite(f->c_per_h) && isfinite(f->j)) {
		fputs("<polyline class=\"cool-fit\" points=\"", o);
		for (int k = 0; k <= 100; k++) {
			double t = a.t1 * k / 100, v = fmin(st->t0_c, cool_predict_c(f->c_per_h, f->j, st->t0_c, st->tm_c, t));
			fprintf(o, "%s%.1f,%.1f", k ? " " : "", cx(&a, t), cy(&a, fmax(a.lo, fmin(a.hi, v))));
		}
		fputs("\"/>\n", o);
	}
	fprintf(o, "<g class=\"legend\"><line class=\"cool-obs\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
		   "<text x=\"%.1f\" y=\"%d\">slowest probe (process points)</text><line class=\"cool-fit\" x1=\"%.1f\" "
		   "y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/><text x=\"%.1f\" y=\"%d\">fitted curve</text></g>\n</svg>\n",
		a.x0, COOL_H - 12, a.x0 + 20, COOL_H - 12, a.x0 + 26, COOL_H - 8, a.x0 + 260, COOL_H - 12, a.x0 + 280,
		COOL_H - 12, a.x0 + 286, COOL_H - 8);
}

static const char css[] =
	"@page { size: A4; margin: 14mm 12mm; }\n"
	"body { font: 10.5pt/1.35 'DejaVu Sans', Arial, sans-serif; color: #111; max-width: 190mm; margin: 0 auto; }\n"
	"h1 { font-size: 16pt; margin: 0 0 4px; } h2 { font-size: 12pt; margin: 16px 0 6px; border-bottom: 1px solid #999; }\n"
	"table { border-collapse: collapse; width: 100%; margin: 4px 0; page-break-inside: auto; }\n"
	"tr { page-break-inside: avoid; } thead { display: table-header-group; }\n"
	"th, td { border: 1px solid #bbb; padding: 2px 5px; text-align: left; vertical-align: top; font-size: 9pt; }\n"
	"th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }\n"
	"table.kv th { width: 32%; }\n"
	"svg { width: 100%; height: auto; border: 1px solid #ccc; page-break-inside: avoid; }\n"
	"svg .frame { fill: none; stroke: #888; } svg .band { fill: #cfe8cf; stroke: none; }\n"
	"svg .grid { stroke: #e4e4e4; } svg .tick { font-size: 11px; fill: #333; } svg .label { font-size: 12px; }\n"
	"svg .temp { fill: none; stroke: #c0392b; stroke-width: 1.5; } svg .rh { fill: none; stroke: #2471a3; "
	"stroke-width: 1; stroke-dasharray: 4 2; } svg text.rh { fill: #2471a3; stroke: none; }\n"
	"svg .alarm { fill: #e67e22; } svg .move { stroke: #555; stroke-dasharray: 2 3; } svg .legend text { font-size: 11px; }\n"
	"svg .cool-obs { fill: none; stroke: #c0392b; stroke-width: 2; } svg .cool-fit { fill: none; stroke: #1e8449; "
	"stroke-width: 1.5; stroke-dasharray: 6 3; } svg .cool-target { stroke: #7d3c98; } svg .cool-medium { stroke: "
	"#2471a3; stroke-dasharray: 2 3; } svg.cooling { max-width: 160mm; }\n"
	".note { color: #444; font-size: 9pt; } .bad { color: #a00; }\n"
	"footer { margin-top: 18px; font-size: 8.5pt; color: #555; }\n"
	"@media print { h2 { page-break-after: avoid; } }\n";

/* The header's machine keys (the CSV's) and their labels for people, units
 * always shown. */
static const struct {
	const char *k, *label;
} head_labels[] = {
	{ "lot", "Lot" },
	{ "site", "Site" },
	{ "product", "Product" },
	{ "profile", "Profile" },
	{ "profile_version", "Profile version" },
	{ "profile_description", "Profile description" },
	{ "loaded_utc", "Loaded" },
	{ "planned_dispatch_utc", "Planned dispatch" },
	{ "period_from_utc", "Period from" },
	{ "period_to_utc", "Period to" },
	{ "band_c", "Storage band (°C)" },
	{ "model", "Shelf-life model" },
	{ "model_t_ref_c", "Reference temperature T_ref (°C)" },
	{ "model_shelf_life_d", "Shelf life at T_ref (days)" },
	{ "model_ea_kj_mol", "Activation energy Ea (kJ/mol)" },
	{ "mkt_dh_r_k", "MKT ΔH/R (K)" },
	{ "influxdb", "InfluxDB (URL and database)" },
	{ "generated_utc", "Generated" },
	{ "software", "Software" },
	{ "timestamps", "Times" },
};

/* A header key's label (the key spelt out in words when it has none). */
static const char *head_label(const char *k, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(head_labels) / sizeof(head_labels[0]); i++)
		if (strcmp(head_labels[i].k, k) == 0)
			return head_labels[i].label;
	report_key_words(k, buf, len);
	return buf;
}

/* A time in the site's zone (the process's TZ) with its offset,
 * "2026-06-12T15:00:00+07:00"; "-" for 0 or less. */
static void html_time(int64_t ms, char *buf, size_t len)
{
	if (ms <= 0 || time_fmt_local(ms * 1000000, buf, len, TIME_LOCAL_ISO) < 0)
		report_fmt_utc(ms, buf, len);
}

/* A header row: its label, its time in the site's zone; the InfluxDB URL
 * only with --verbose. */
static void html_head_row(const struct report *r, FILE *o, const struct report_kv *kv)
{
	char v[sizeof(kv->v)];
	const char *tz = getenv("TZ");

	if (strcmp(kv->k, "influxdb") == 0 && !r->verbose)
		return;
	snprintf(v, sizeof(v), "%s", kv->v);
	if (kv->is_time)
		html_time(kv->t_ms, v, sizeof(v));
	else if (strcmp(kv->k, "timestamps") == 0)
		snprintf(v, sizeof(v), "the site's time (%s) with its UTC offset; recorded by coldchaind at the "
				       "time of the reading",
			 tz && *tz ? tz : "the system's zone");
	char label[128];

	fputs("<tr><th>", o);
	svg_esc(o, head_label(kv->k, label, sizeof(label)));
	fprintf(o, "</th><td id=\"head-%s\">", kv->k);
	svg_esc(o, v);
	fputs("</td></tr>\n", o);
}

static void html_td(FILE *o, const char *s, int num)
{
	fputs(num ? "<td class=\"n\">" : "<td>", o);
	svg_esc(o, s);
	fputs("</td>", o);
}

static void html_stats_row(FILE *o, const char *room, int64_t from, int64_t to, const struct report_stats *ts,
			   const struct report_stats *hs)
{
	char b[64];

	fputs("<tr>", o);
	html_td(o, room, 0);
	html_time(from, b, sizeof(b));
	html_td(o, b, 0);
	html_time(to, b, sizeof(b));
	html_td(o, b, 0);
	snprintf(b, sizeof(b), "%.2f", (double)(to - from) / 3600000.0);
	html_td(o, b, 1);
	report_fmt_num(b, sizeof(b), ts->n ? ts->min : NAN, 2);
	html_td(o, b, 1);
	report_fmt_num(b, sizeof(b), ts->n ? ts->max : NAN, 2);
	html_td(o, b, 1);
	report_fmt_num(b, sizeof(b), ts->n ? ts->sum / (double)ts->n : NAN, 2);
	html_td(o, b, 1);
	report_fmt_num(b, sizeof(b), ts->below_h + ts->above_h, 2);
	html_td(o, b, 1);
	snprintf(b, sizeof(b), "%zu", ts->n);
	html_td(o, b, 1);
	report_fmt_num(b, sizeof(b), hs->n ? hs->min : NAN, 1);
	html_td(o, b, 1);
	report_fmt_num(b, sizeof(b), hs->n ? hs->max : NAN, 1);
	html_td(o, b, 1);
	report_fmt_num(b, sizeof(b), hs->n ? hs->sum / (double)hs->n : NAN, 1);
	html_td(o, b, 1);
	fputs("</tr>\n", o);
}

static void html_head(const struct report *r, FILE *o)
{
	struct report_kv kv[REPORT_MAX_KVS];
	size_t n = report_header_kvs(r, kv, REPORT_MAX_KVS);

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Lot ", o);
	svg_esc(o, r->lot);
	fputs(" storage history</title>\n<style>\n", o);
	fputs(css, o);
	fputs("</style></head><body>\n<h1>Storage history of lot <span id=\"lot\">", o);
	svg_esc(o, r->lot);
	fputs("</span></h1>\n<p class=\"note\">Temperature record after EN 12830: timestamps in the site's time "
	      "with their UTC offset, sensor ids and recording intervals below; gaps in the record are listed "
	      "explicitly.</p>\n",
	      o);

	fputs("<h2>Record</h2>\n<table class=\"kv\" id=\"header\">\n", o);
	for (size_t i = 0; i < n; i++)
		html_head_row(r, o, &kv[i]);
	fputs("</table>\n", o);
}

static void html_sensors(const struct report *r, FILE *o)
{
	char a[64], b[64];

	fputs("<h2>Sensors</h2>\n<table id=\"sensors\"><thead><tr><th>room</th><th>quantity</th><th>sensor/channel</th>"
	      "<th>recording interval</th><th>samples</th></tr></thead>\n",
	      o);
	for (size_t i = 0; i < r->nstays; i++) {
		const struct report_stay *s = &r->stays[i];
		for (int k = 0; k < 2; k++) {
			const struct report_series *se = k ? &s->rh : &s->temp;
			if (!(k ? s->have_rh : s->have_temp))
				continue;
			fputs("<tr>", o);
			html_td(o, s->room, 0);
			html_td(o, k ? "relative humidity" : "air temperature", 0);
			snprintf(a, sizeof(a), "%s/%s", se->sensor ? se->sensor : "?", se->channel ? se->channel : "?");
			html_td(o, a, 0);
			if (se->interval_ms)
				snprintf(b, sizeof(b), "%.0f s%s", (double)se->interval_ms / 1000.0,
					 se->configured ? "" : " (observed)");
			else
				snprintf(b, sizeof(b), "unknown");
			html_td(o, b, 0);
			snprintf(b, sizeof(b), "%zu", se->n);
			html_td(o, b, 1);
			fputs("</tr>\n", o);
		}
	}
	fputs("</table>\n", o);
}

static void html_figures(const struct report *r, FILE *o)
{
	struct report_fig f[REPORT_NFIGS];
	size_t nf = report_lot_figures(r->sl, r->nsl, f);
	char a[64];

	fputs("<h2>Lot figures</h2>\n<table class=\"kv\" id=\"figures\">\n", o);
	for (size_t i = 0; i < nf; i++) {
		report_fmt_num(a, sizeof(a), f[i].v, f[i].prec);
		fprintf(o, "<tr><th>%s</th><td class=\"n\" id=\"fig-%s\">%s%s%s</td></tr>\n", f[i].label, f[i].k,
			a[0] ? a : "n/a", a[0] ? " " : "", a[0] ? f[i].unit : "");
	}
	fputs("</table>\n<p class=\"note\">From coldchaind's shelf-life model (product temperature), cumulative "
	      "since loading, at the end of the period. Estimates rest on the profile named above.</p>\n",
	      o);
}

static void html_stays(const struct report *r, FILE *o)
{
	struct report_stats tt = { .min = INFINITY, .max = -INFINITY }, th = tt;
	char a[64], b[64];

	fputs("<h2>Time in each room</h2>\n<table id=\"stays\"><thead><tr><th>room</th><th>from (local)</th>"
	      "<th>to (local)</th><th>h</th><th>min °C</th><th>max °C</th><th>mean °C</th><th>outside band h</th>"
	      "<th>samples</th><th>RH min</th><th>RH max</th><th>RH mean</th></tr></thead>\n",
	      o);
	for (size_t i = 0; i < r->nstays; i++) {
		const struct report_stay *s = &r->stays[i];
		html_stats_row(o, s->room, s->from, s->to, &s->ts, &s->hs);
		report_stats_merge(&tt, &s->ts);
		report_stats_merge(&th, &s->hs);
	}
	html_stats_row(o, "all", r->from, r->to, &tt, &th);
	report_fmt_num(a, sizeof(a), r->band_low, 1);
	report_fmt_num(b, sizeof(b), r->band_high, 1);
	fprintf(o, "</table>\n<p class=\"note\">Band %s..%s °C%s; time outside it: <span id=\"below-h\">%.2f</span> h "
		   "below, <span id=\"above-h\">%.2f</span> h above (each reading held until the next, at most %d "
		   "recording intervals).</p>\n",
		a, b, report_band_estimate(r), tt.below_h, tt.above_h, REPORT_GAP_INTERVALS);
}

/* One row of the alarms table: the alarm, its raise, value and limit, its
 * acknowledgement (or its absence, in red) and how it ended. */
static void html_alarm_row(FILE *o, const struct report_alarm *al)
{
	const struct alarm_episode *e = &al->e;
	const char *before = al->first_stay ? "before the period" : "before the lot entered the room";
	char a[64], vl[80], v[32], l[32];

	fprintf(o, "<tr class=\"alarm-%s\"><td>", e->end == ALARM_HISTORY_ACTIVE ? "active" : "ended");
	svg_esc(o, e->id);
	if (e->message) {
		fputs("<br><span class=\"note\">", o);
		svg_esc(o, e->message);
		fputs("</span>", o);
	}
	if (e->late)
		fputs("<br><span class=\"note late\">historical alarm (late-arriving data): recorded, "
		      "not annunciated</span>",
		      o);
	fputs("</td>", o);
	html_td(o, e->severity ? e->severity : "", 0);
	fputs("<td class=\"raised\">", o);
	if (e->raised_ms) {
		html_time(e->raised_ms, a, sizeof(a));
		svg_esc(o, a);
		if (e->raised_before)
			fprintf(o, " (%s)", before);
	} else {
		svg_esc(o, before);
	}
	fputs("</td>", o);
	report_fmt_num(v, sizeof(v), e->value, 2);
	report_fmt_num(l, sizeof(l), e->limit, 2);
	snprintf(vl, sizeof(vl), "%s / %s", v, l);
	html_td(o, vl, 1);
	fputs("<td class=\"acked\">", o);
	if (e->acked_ms) {
		html_time(e->acked_ms, a, sizeof(a));
		svg_esc(o, a);
		fputs(" by ", o);
		svg_esc(o, e->acked_by ? e->acked_by : "?");
		if (e->ack_note) {
			fputs(": “", o);
			svg_esc(o, e->ack_note);
			fputs("”", o);
		}
	} else {
		fputs("<span class=\"bad\">not acknowledged</span>", o);
	}
	if (e->shelved_by) {
		fputs("<br>shelved by ", o);
		svg_esc(o, e->shelved_by);
	}
	fputs("</td><td class=\"cleared\">", o);
	if (e->end == ALARM_HISTORY_ACTIVE) {
		fputs("<span class=\"bad\">", o);
		svg_esc(o, report_alarm_end_label(al));
		fputs("</span>", o);
	} else {
		html_time(e->cleared_ms, a, sizeof(a));
		svg_esc(o, a);
		if (e->end == ALARM_HISTORY_RESET) {
			fputs(" (reset by ", o);
			svg_esc(o, e->cleared_by ? e->cleared_by : "?");
			fputs(")", o);
		}
	}
	fputs("</td></tr>\n", o);
}

static void html_alarms(const struct report *r, FILE *o)
{
	fputs("<h2>Alarms and acknowledgements</h2>\n", o);
	if (!r->nalarms)
		fputs("<p id=\"alarms-none\">No alarm during the period.</p>\n", o);
	else {
		fputs("<table id=\"alarms\"><thead><tr><th>alarm</th><th>severity</th><th>raised (local)</th>"
		      "<th>value / limit</th><th>acknowledged</th><th>cleared (local)</th></tr></thead>\n",
		      o);
		for (size_t i = 0; i < r->nalarms; i++)
			html_alarm_row(o, &r->alarms[i]);
		fputs("</table>\n", o);
	}
}

/* One row of a step's table: <td id="step-BATCH-KEY">. */
static void step_row(FILE *o, const struct report_step *st, const char *key, const char *label, const char *v)
{
	fprintf(o, "<tr><th>%s</th><td id=\"step-", label);
	svg_esc(o, st->batch);
	fprintf(o, "-%s\">", key);
	svg_esc(o, v);
	fputs("</td></tr>\n", o);
}

/* "9.18 °C", "n/a" for NaN. */
static void fmt_unit(char *b, size_t n, double v, int prec, const char *unit, const char *tail)
{
	if (!isfinite(v))
		snprintf(b, n, "n/a");
	else
		snprintf(b, n, "%.*f%s%s%s", prec, v, unit[0] ? " " : "", unit, tail);
}

static const char *est_of(const struct report_step *st, const char *group, const char *key)
{
	return report_step_estimate(st, group, key) ? " (estimate)" : "";
}

static void step_flags(const struct report_step *st, char *b, size_t n)
{
	snprintf(b, n, "%s%s%s%s%s%s", report_cool_verdict(st->pull_early, st->final_c, st->target_c, st->margin_k),
		 st->underperforming > 0 ? "; cooler underperforming" : "",
		 st->unreachable > 0 ? "; target unreachable" : "", st->late_start > 0 ? "; late start" : "",
		 st->over_cooling > 0 ? "; over-cooling" : "", st->probe_faults > 0 ? "; probe fault" : "");
}

static void step_figures(const struct report_step *st, FILE *o)
{
	char b[256], c[64], d[64];
	const char *grp = st->kind ? st->kind : "precool";

	snprintf(b, sizeof(b), "%s (%s)", st->process ? st->process : "", st->kind ? st->kind : "");
	step_row(o, st, "process", "process", b);
	snprintf(b, sizeof(b), "%s version %s", st->profile ? st->profile : "", st->profile_version ? st->profile_version : "");
	step_row(o, st, "profile", "process profile", b);
	html_time(st->start, c, sizeof(c));
	html_time(st->end, d, sizeof(d));
	snprintf(b, sizeof(b), "%s – %s", c, d);
	step_row(o, st, "period", "first – last process point (local)", b);
	fmt_unit(b, sizeof(b), st->final_c, 2, "°C", "");
	step_row(o, st, "final_c", "final pulp temperature (slowest probe)", b);
	fmt_unit(c, sizeof(c), st->margin_k, 1, "K", est_of(st, grp, "target_margin"));
	fmt_unit(b, sizeof(b), st->target_c, 1, "°C", est_of(st, grp, "target"));
	snprintf(b + strlen(b), sizeof(b) - strlen(b), ", pull margin %s", c);
	step_row(o, st, "target_c", "target", b);
	fmt_unit(b, sizeof(b), st->medium_c, 2, "°C", "");
	step_row(o, st, "medium_c", "medium (mean of the points)", b);
	fmt_unit(b, sizeof(b), st->c_per_h, 4, "/h", "");
	step_row(o, st, "C", "cooling coefficient C", b);
	fmt_unit(b, sizeof(b), st->j, 3, "", "");
	step_row(o, st, "j", "lag factor j", b);
	fmt_unit(b, sizeof(b), st->r2, 4, "", "");
	step_row(o, st, "r2", "R²", b);
	fmt_unit(b, sizeof(b), st->half_h, 3, "h", "");
	step_row(o, st, "half_h", "half-cooling time Z", b);
	fmt_unit(b, sizeof(b), st->seven_eighths_h, 3, "h", "");
	step_row(o, st, "seven_eighths_h", "7/8 cooling time", b);
	fmt_unit(b, sizeof(b), st->remaining_h, 3, "h", "");
	html_time(st->eta_ms, c, sizeof(c));
	snprintf(b + strlen(b), sizeof(b) - strlen(b), " (ETA %s)", c);
	step_row(o, st, "remaining_h", "remaining to target at the last point", b);
	snprintf(b, sizeof(b), "%s%s%s", st->fit ? st->fit : "n/a", st->status ? "; compliance " : "",
		 st->status ? st->status : "");
	step_row(o, st, "fit", "fit", b);
	step_flags(st, b, sizeof(b));
	step_row(o, st, "verdict", "verdict", b);
	snprintf(b, sizeof(b), "C %.4f /h, j %.3f, R² %.4f from %zu of %zu points", st->refit.c_per_h, st->refit.j,
		 st->refit.r2, st->refit.n, st->npts);
	step_row(o, st, "refit", "the report's own fit of the points (origin: first point)", st->refit.n >= 2 ? b : "n/a");
}

/* The common head rows of a step: process, profile, start, period. */
static void step_head(const struct report_step *st, FILE *o)
{
	char b[256], c[64], d[64];

	snprintf(b, sizeof(b), "%s (%s)", st->process ? st->process : "", st->kind ? st->kind : "");
	step_row(o, st, "process", "process", b);
	snprintf(b, sizeof(b), "%s version %s", st->profile ? st->profile : "", st->profile_version ? st->profile_version : "");
	step_row(o, st, "profile", "process profile", b);
	html_time(st->batch_start_ms, c, sizeof(c));
	html_time(st->end, d, sizeof(d));
	snprintf(b, sizeof(b), "%s – %s", st->batch_start_ms ? c : "n/a", d);
	step_row(o, st, "period", "batch start – last process point (local)", b);
}

/* One outside sensor's row: TWA, maximum STEL, projected TWA, with grades. */
static void step_sensor_row(const struct report_step *st, const struct report_sensor *x, FILE *o)
{
	const struct cc_exposure_limit *l = report_step_limits(st);
	double twa_l = l ? l->twa_ppm : NAN, stel_l = l ? l->stel_ppm : NAN;
	char b[160], c[64];

	fputs("<tr>", o);
	html_td(o, x->sensor, 0);
	fmt_unit(b, sizeof(b), x->twa_ppm, 3, "ppm", "");
	fmt_unit(c, sizeof(c), twa_l, 3, "ppm", report_step_limit_estimate(st, "twa") ? " (estimate)" : "");
	snprintf(b + strlen(b), sizeof(b) - strlen(b), " / %s: %s", c, report_exposure_grade(x->twa_ppm, twa_l));
	fputs("<td id=\"twa-", o);
	svg_esc(o, st->batch);
	fputc('-', o);
	svg_esc(o, x->sensor);
	fputs("\">", o);
	svg_esc(o, b);
	fputs("</td>", o);
	fmt_unit(b, sizeof(b), x->stel_max_ppm, 3, "ppm", "");
	fmt_unit(c, sizeof(c), stel_l, 3, "ppm", report_step_limit_estimate(st, "stel") ? " (estimate)" : "");
	snprintf(b + strlen(b), sizeof(b) - strlen(b), " / %s: %s", c, report_exposure_grade(x->stel_max_ppm, stel_l));
	fputs("<td id=\"stel-", o);
	svg_esc(o, st->batch);
	fputc('-', o);
	svg_esc(o, x->sensor);
	fputs("\">", o);
	svg_esc(o, b);
	fputs("</td>", o);
	fmt_unit(b, sizeof(b), x->projected_twa_ppm, 3, "ppm", "");
	html_td(o, b, 1);
	fmt_unit(b, sizeof(b), x->unmonitored_h, 3, "h", "");
	html_td(o, b, 1);
	fputs("</tr>\n", o);
}

static void step_figures_fum(const struct report_step *st, FILE *o)
{
	const struct cc_process_profile *pp = st->pp;
	char b[256], c[64], d[64];

	step_head(st, o);
	fmt_unit(b, sizeof(b), st->ct_ppmh, 1, "ppm·h", "");
	fmt_unit(c, sizeof(c), st->ct_g_h_m3, 3, "g·h/m³", "");
	snprintf(b + strlen(b), sizeof(b) - strlen(b), " = %s", c);
	step_row(o, st, "ct", "dose CT (chamber, trapezoid)", b);
	fmt_unit(b, sizeof(b), st->refit_ct_ppmh, 1, "ppm·h", "");
	step_row(o, st, "refit_ct", "the report's own CT of the process points", b);
	fmt_unit(b, sizeof(b), st->peak_ppm, 0, "ppm", "");
	step_row(o, st, "peak", "peak concentration", b);
	fmt_unit(b, sizeof(b), report_step_hours(st), 2, "h", "");
	step_row(o, st, "exposure_h", "exposure time", b);
	fmt_unit(b, sizeof(b), st->unmonitored_h, 3, "h", "");
	step_row(o, st, "unmonitored_h", "unmonitored time (chamber)", b);
	if (pp && (isfinite(pp->fumigation.ct_min_ppmh) || isfinite(pp->fumigation.ct_max_ppmh))) {
		fmt_unit(c, sizeof(c), pp->fumigation.ct_min_ppmh, 0, "", est_of(st, "fumigation", "ct_min"));
		fmt_unit(d, sizeof(d), pp->fumigation.ct_max_ppmh, 0, "ppm·h", est_of(st, "fumigation", "ct_max"));
		snprintf(b, sizeof(b), "%s against %s – %s", report_step_verdict(st), c, d);
	} else
		snprintf(b, sizeof(b), "%s", report_step_verdict(st));
	step_row(o, st, "verdict", "CT verdict", b);
	fmt_unit(b, sizeof(b), st->purge_h, 2, "h", "");
	fmt_unit(c, sizeof(c), st->purge_estimate_h, 2, "h", est_of(st, "fumigation", "purge_overrun"));
	snprintf(b + strlen(b), sizeof(b) - strlen(b), " (estimate %s)", c);
	step_row(o, st, "purge", "purge time", b);
	snprintf(b, sizeof(b), "%s", st->phase ? st->phase : "n/a");
	step_row(o, st, "phase", "phase at the last point", b);
}

static void step_figures_dry(const struct report_step *st, FILE *o)
{
	char b[256], c[64];

	step_head(st, o);
	fmt_unit(b, sizeof(b), st->mc_wb, 2, "% wb", "");
	fmt_unit(c, sizeof(c), st->mc_db, 4, "kg/kg db", "");
	snprintf(b + strlen(b), sizeof(b) - strlen(b), ", %s", c);
	step_row(o, st, "mc", "final moisture", b);
	fmt_unit(b, sizeof(b), st->pp ? st->pp->drying.target_mc_wb : NAN, 1, "% wb", est_of(st, "drying", "target_mc_wb"));
	step_row(o, st, "target", "target moisture", b);
	fmt_unit(b, sizeof(b), st->mass_ratio, 4, "", "");
	step_row(o, st, "mass_ratio", "m/m0", b);
	snprintf(b, sizeof(b), "%s", st->stage && *st->stage ? st->stage : "n/a");
	step_row(o, st, "stage", "stage reached", b);
	fmt_unit(b, sizeof(b), st->k, 4, "/h", " (Lewis, n = 1)");
	step_row(o, st, "k", "drying constant k", b);
	step_row(o, st, "verdict", "verdict", report_step_verdict(st));
}

/* A small chart of the step's recorded curve field (chamber ppm, MC). */
static void series_svg(const struct report_step *st, FILE *o, const char *ylabel)
{
	struct cool_axis a = { .x0 = 56, .y0 = 14, .w = COOL_W - 80, .h = COOL_H - 70, .lo = 0, .hi = 0 };

	for (size_t i = 0; i < st->npts; i++) {
		a.t1 = fmax(a.t1, st->pts[i].t_h);
		a.hi = fmax(a.hi, st->pts[i].t_c);
	}
	a.hi = a.hi > 0 ? a.hi * 1.05 : 1;
	if (!(a.t1 > 0))
		a.t1 = 1;
	fputs("<svg class=\"series\" id=\"series-", o);
	svg_esc(o, st->batch);
	fprintf(o, "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n",
		COOL_W, COOL_H, ylabel);
	fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"frame\"/>\n", a.x0, a.y0, a.w,
		a.h);
	for (int k = 0; k <= 4; k++)
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/><text class=\"tick\" "
			   "x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text><text class=\"tick\" x=\"%.1f\" "
			   "y=\"%.1f\" text-anchor=\"middle\">%.2f h</text>\n",
			a.x0, cy(&a, a.hi * k / 4), a.x0 + a.w, cy(&a, a.hi * k / 4), a.x0 - 6, cy(&a, a.hi * k / 4) + 4,
			a.hi * k / 4, cx(&a, a.t1 * k / 4), a.y0 + a.h + 16, a.t1 * k / 4);
	fprintf(o, "<text class=\"label\" x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
		   "text-anchor=\"middle\">%s</text>\n<polyline class=\"cool-obs\" points=\"",
		a.y0 + a.h / 2, a.y0 + a.h / 2, ylabel);
	for (size_t i = 0; i < st->npts; i++)
		fprintf(o, "%s%.1f,%.1f", i ? " " : "", cx(&a, st->pts[i].t_h), cy(&a, st->pts[i].t_c));
	fputs("\"/>\n</svg>\n", o);
}

/* A fumigation step's outside sensors. */
static void step_sensors(const struct report_step *st, FILE *o)
{
	const struct cc_exposure_limit *l = report_step_limits(st);

	if (!st->nsensors)
		return;
	fputs("<p class=\"note\">Worker exposure outside the chamber, per sensor, against the limit set ", o);
	svg_esc(o, l ? l->name : "(none configured)");
	fputs(" (TWA over its period, unmonitored time counted conservatively; the maximum 15-min STEL).</p>\n"
	      "<table class=\"step-sensors\"><thead><tr><th>sensor</th><th>TWA / limit</th><th>STEL max / limit</th>"
	      "<th>projected TWA</th><th>unmonitored</th></tr></thead>\n",
	      o);
	for (size_t i = 0; i < st->nsensors; i++)
		step_sensor_row(st, &st->sensors[i], o);
	fputs("</table>\n", o);
}

/* One row of a grades table: the parameter's label for people (its key
 * GROUP.KEY, as in the CSV, in the title for the technician), the value (≈
 * for a D grade, shown as an estimate), the grade, the source. */
static void html_grade_row(FILE *o, const char *group, const char *key, int index, const char *value,
			   const char *grade, const char *source)
{
	int est = strcmp(grade, "D") == 0;
	char label[256];
	char *pv = index >= 0 ? xasprintf("%s[%d].%s", group, index, key) : xasprintf("%s.%s", group, key);

	fprintf(o, "<tr%s><td title=\"", est ? " class=\"estimate\"" : "");
	svg_esc(o, pv);
	fputs("\">", o);
	svg_esc(o, report_param_label(group, key, index, label, sizeof(label)));
	fputs("</td>", o);
	free(pv);
	pv = xasprintf("%s%s", est ? "≈ " : "", value);
	html_td(o, pv, 1);
	free(pv);
	html_td(o, est ? "D (estimate)" : grade, 0);
	html_td(o, source ? source : "", 0);
	fputs("</tr>\n", o);
}

/* The step's profile numbers and the line's, with their grades. */
static void step_grades(const struct report_step *st, FILE *o)
{
	const struct cc_param *sets[2] = { st->pp ? st->pp->params : NULL, st->pc ? st->pc->params : NULL };
	size_t ns[2] = { st->pp ? st->pp->nparams : 0, st->pc ? st->pc->nparams : 0 };

	if (!ns[0] && !ns[1])
		return;
	fputs("<table class=\"step-grades\"><thead><tr><th>parameter</th><th>value</th><th>grade</th><th>source</th>"
	      "</tr></thead>\n",
	      o);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < ns[k]; i++) {
			const struct cc_param *pa = &sets[k][i];
			if (pa->value[0] == '"') /* a channel or a name, not a number */
				continue;
			char gr[2] = { pa->grade, '\0' };
			html_grade_row(o, pa->group, pa->key, pa->index, pa->value, pa->grade ? gr : "ungraded", pa->source);
		}
	fputs("</table>\n", o);
}

/* A cell of the lot history table, id lot-step-N-KEY. */
static void lot_cell(FILE *o, size_t i, const char *key, const char *v)
{
	fprintf(o, "<td id=\"lot-step-%zu-%s\">", i + 1, key);
	svg_esc(o, v ? v : "");
	fputs("</td>", o);
}

/* The lot's history at the top: its lot_step points, by start. */
static void html_lot_history(const struct report *r, FILE *o)
{
	char a[64], b[64];

	if (!r->nlsteps)
		return;
	fputs("<h2>Lot history</h2>\n<table class=\"lot-history\">\n<tr><th>#</th><th>step</th><th>batch or "
	      "room</th><th>start (local)</th><th>end (local)</th><th>verdict</th></tr>\n",
	      o);
	for (size_t i = 0; i < r->nlsteps; i++) {
		const struct report_lot_step *ls = &r->lsteps[i];
		a[0] = b[0] = '\0';
		if (ls->start)
			html_time(ls->start, a, sizeof(a));
		if (ls->end)
			html_time(ls->end, b, sizeof(b));
		fprintf(o, "<tr><td>%zu</td>", i + 1);
		lot_cell(o, i, "step", ls->step);
		lot_cell(o, i, "where", ls->batch && strcmp(ls->step, "room") != 0 ? ls->batch : ls->room);
		lot_cell(o, i, "start", a);
		lot_cell(o, i, "end", b);
		lot_cell(o, i, "verdict", ls->verdict);
		fputs("</tr>\n", o);
	}
	fputs("</table>\n", o);
}

static void html_steps(const struct report *r, FILE *o)
{
	if (!r->nsteps)
		return;
	fputs("<h2>Processing</h2>\n<p class=\"note\">Each step the lot went through before storage, from the batch's "
	      "process points and alarms (coldchaind's own fit of the slowest probe, processing.md §1).</p>\n",
	      o);
	for (size_t i = 0; i < r->nsteps; i++) {
		const struct report_step *st = &r->steps[i];
		fprintf(o, "<h3>Step %zu: ", i + 1);
		svg_esc(o, st->kind);
		fputs(" batch ", o);
		svg_esc(o, st->batch);
		fputs("</h3>\n<table class=\"kv step\" id=\"step-", o);
		svg_esc(o, st->batch);
		fputs("\">\n", o);
		if (strcmp(st->curve_field, "chamber_ppm") == 0)
			step_figures_fum(st, o);
		else if (strcmp(st->curve_field, "mc_wb") == 0)
			step_figures_dry(st, o);
		else
			step_figures(st, o);
		fputs("</table>\n", o);
		if (st->npts && strcmp(st->curve_field, "slowest_c") == 0)
			cool_svg(st, o);
		else if (st->npts)
			series_svg(st, o, strcmp(st->curve_field, "mc_wb") == 0 ? "MC % wb" : "chamber SO2 ppm");
		step_sensors(st, o);
		if (!st->nalarms)
			fputs("<p class=\"note\">No alarm of this batch.</p>\n", o);
		else {
			fputs("<table class=\"step-alarms\"><thead><tr><th>alarm</th><th>severity</th><th>raised (local)</th>"
			      "<th>value / limit</th><th>acknowledged</th><th>cleared (local)</th></tr></thead>\n",
			      o);
			for (size_t k = 0; k < st->nalarms; k++)
				html_alarm_row(o, &st->alarms[k]);
			fputs("</table>\n", o);
		}
		step_grades(st, o);
	}
}

static void html_gaps(const struct report *r, FILE *o)
{
	char a[64], b[64];

	fputs("<h2>Gaps in the record</h2>\n", o);
	if (!r->ngaps)
		fputs("<p id=\"gaps-none\">None: every recording interval has a reading.</p>\n", o);
	else {
		fputs("<table id=\"gaps\"><thead><tr><th>sensor/channel</th><th>kind</th><th>from (local)</th>"
		      "<th>to (local)</th><th>duration</th></tr></thead>\n",
		      o);
		for (size_t i = 0; i < r->ngaps; i++) {
			const struct report_gap *g = &r->gaps[i];
			fputs("<tr>", o);
			snprintf(a, sizeof(a), "%s/%s", g->sensor ? g->sensor : "?", g->channel ? g->channel : "?");
			html_td(o, a, 0);
			html_td(o, g->kind, 0);
			html_time(g->from, a, sizeof(a));
			html_td(o, a, 0);
			html_time(g->to, a, sizeof(a));
			html_td(o, a, 0);
			format_duration_ms(g->to - g->from, b, sizeof(b));
			html_td(o, b, 1);
			fputs("</tr>\n", o);
		}
		fputs("</table>\n", o);
	}
}

static void html_grades(const struct report *r, FILE *o)
{
	if (!r->ngrades)
		return;
	fputs("<h2>Profile parameters and their grades</h2>\n<table id=\"grades\"><thead><tr><th>parameter</th>"
	      "<th>value</th><th>grade</th><th>source</th></tr></thead>\n",
	      o);
	for (size_t i = 0; i < r->ngrades; i++) {
		const struct report_grade *g = &r->grades[i];
		html_grade_row(o, g->group, g->key, -1, g->value, g->grade, g->source);
	}
	fputs("</table>\n<p class=\"note\">A: primary source; B: secondary; C: derived from A/B; D: engineering "
	      "estimate, to be calibrated locally (shown ≈).</p>\n",
	      o);
}

void report_write_html(const struct report *r, FILE *o)
{
	char a[64];

	html_head(r, o);
	html_lot_history(r, o);
	html_sensors(r, o);
	html_steps(r, o);
	fputs("<h2>Air temperature and RH against the storage band</h2>\n", o);
	write_svg(r, o);
	html_figures(r, o);
	html_stays(r, o);
	html_alarms(r, o);
	html_gaps(r, o);
	html_grades(r, o);
	html_time(r->generated, a, sizeof(a));
	fprintf(o, "<footer>Generated %s by coldchainctl %s from InfluxDB", a, CC_VERSION);
	if (r->verbose) { /* where the data lives: for the operator, not the buyer */
		fputc(' ', o);
		svg_esc(o, r->url);
		fputs(" database ", o);
		svg_esc(o, r->db);
	}
	fputs(".</footer>\n</body></html>\n", o);
}
