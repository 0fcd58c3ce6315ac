/* svg_trend.c - the room page's 24-hour chart (see svg_trend.h).  Buckets
 * are drawn as what they are: the range and mean hold for the whole
 * bucket, so a run of buckets is a step-shaped area between its edges and
 * its mean joins the buckets' centres; a lone bucket still shows (its
 * mean as a short bar). */
#include "svg_trend.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>

#include "../daemon/util.h"

#define DEF_W 720
#define DEF_H 240
#define PAD_L 44
#define PAD_R 10
#define PAD_T 10
#define PAD_B 26

void svg_esc(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default: fputc(*s, o);
		}
	}
}

struct frame {
	double x0, y0, w, h, lo, hi;
	size_t n;
};

static double fx(const struct frame *f, double i)
{
	return f->x0 + f->w * i / (double)f->n;
}

static double fy(const struct frame *f, double v)
{
	return f->y0 + f->h - f->h * (v - f->lo) / (f->hi - f->lo);
}

/* The value range: the data and the limits, a unit of margin. */
static int frame_scale(const struct svg_trend *t, struct frame *f)
{
	double lo = INFINITY, hi = -INFINITY;
	int any = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].n && isfinite(t->p[i].min) && isfinite(t->p[i].max)) {
			lo = fmin(lo, t->p[i].min);
			hi = fmax(hi, t->p[i].max);
			any = 1;
		}
	if (isfinite(t->lim_lo))
		lo = fmin(lo, t->lim_lo), hi = fmax(hi, t->lim_lo);
	if (isfinite(t->lim_hi))
		lo = fmin(lo, t->lim_hi), hi = fmax(hi, t->lim_hi);
	if (!isfinite(lo) || !isfinite(hi)) {
		lo = 0;
		hi = 10;
	}
	f->lo = floor(lo - 1);
	f->hi = ceil(hi + 1);
	return any;
}

static int bucket_ok(const struct svg_trend_point *p)
{
	return p->n && isfinite(p->min) && isfinite(p->max) && isfinite(p->mean);
}

/* One run [a, b) of buckets with data: the range as a closed step path,
 * the mean through the centres. */
static void draw_run(FILE *o, const struct svg_trend *t, const struct frame *f, size_t a, size_t b)
{
	fprintf(o, "<path class=\"range %s\" d=\"M%.1f %.1f", t->cls, fx(f, (double)a), fy(f, t->p[a].max));
	for (size_t i = a; i < b; i++)
		fprintf(o, " L%.1f %.1f L%.1f %.1f", fx(f, (double)i), fy(f, t->p[i].max), fx(f, (double)i + 1),
			fy(f, t->p[i].max));
	for (size_t i = b; i-- > a;)
		fprintf(o, " L%.1f %.1f L%.1f %.1f", fx(f, (double)i + 1), fy(f, t->p[i].min), fx(f, (double)i),
			fy(f, t->p[i].min));
	fputs(" Z\"/>\n", o);
	fprintf(o, "<polyline class=\"mean %s\" points=\"", t->cls);
	if (b - a == 1)
		fprintf(o, "%.1f,%.1f %.1f,%.1f", fx(f, (double)a), fy(f, t->p[a].mean), fx(f, (double)a + 1),
			fy(f, t->p[a].mean));
	else
		for (size_t i = a; i < b; i++)
			fprintf(o, "%s%.1f,%.1f", i > a ? " " : "", fx(f, (double)i + 0.5), fy(f, t->p[i].mean));
	fputs("\"/>\n", o);
}

static void draw_axes(FILE *o, const struct svg_trend *t, const struct frame *f)
{
	double span = f->hi - f->lo, step = span > 40 ? 10 : span > 20 ? 5 : span > 8 ? 2 : 1;
	char buf[64];

	fprintf(o, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", f->x0, f->y0,
		f->w, f->h);
	for (double v = ceil(f->lo / step) * step; v <= f->hi; v += step)
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			   "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			f->x0, fy(f, v), f->x0 + f->w, fy(f, v), f->x0 - 4, fy(f, v) + 4, v);
	fprintf(o, "<text class=\"tick unit\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", f->x0 - 4, f->y0 + 8);
	svg_esc(o, t->unit);
	fputs("</text>\n", o);
	for (int k = 0; k <= 4; k++) {
		double i = (double)f->n * k / 4;
		int64_t ns = t->start_ns + (int64_t)((double)t->step_ns * i);
		if (time_fmt_local(ns, buf, sizeof(buf), k == 0 || k == 4 ? TIME_LOCAL_SHORT : TIME_LOCAL_HM) < 0)
			buf[0] = '\0';
		fprintf(o, "<text class=\"tick time\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", fx(f, i),
			f->y0 + f->h + 18, k == 0 ? "start" : k == 4 ? "end" : "middle");
		svg_esc(o, buf);
		fputs("</text>\n", o);
	}
}

static void draw_limits(FILE *o, const struct svg_trend *t, const struct frame *f)
{
	double lim[2] = { t->lim_lo, t->lim_hi };

	for (int k = 0; k < 2; k++)
		if (isfinite(lim[k]))
			fprintf(o, "<line class=\"limit\" stroke-dasharray=\"6 4\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				   "y2=\"%.1f\"/>\n",
				f->x0, fy(f, lim[k]), f->x0 + f->w, fy(f, lim[k]));
}

static int cls_ok(const char *c)
{
	if (!c || !*c)
		return 0;
	for (; *c; c++)
		if (!isalpha((unsigned char)*c))
			return 0;
	return 1;
}

int svg_trend_write(FILE *o, const struct svg_trend *t)
{
	struct frame f;
	int w, h, any;

	if (!o || !t || !t->p || t->n == 0 || t->n > SVG_TREND_MAX_POINTS || t->step_ns <= 0 || !cls_ok(t->cls))
		return -EINVAL;
	w = t->width > 0 ? t->width : DEF_W;
	h = t->height > 0 ? t->height : DEF_H;
	f = (struct frame){ .x0 = PAD_L, .y0 = PAD_T, .w = w - PAD_L - PAD_R, .h = h - PAD_T - PAD_B, .n = t->n };
	any = frame_scale(t, &f);
	fprintf(o, "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
		   "aria-label=\"", w, h);
	svg_esc(o, t->title);
	fputs("\">\n<title>", o);
	svg_esc(o, t->title);
	fputs("</title>\n", o);
	draw_axes(o, t, &f);
	draw_limits(o, t, &f);
	for (size_t i = 0; i < t->n;) {
		size_t j = i;
		while (j < t->n && bucket_ok(&t->p[j]))
			j++;
		if (j > i)
			draw_run(o, t, &f, i, j);
		i = j > i ? j : i + 1;
	}
	if (!any) {
		fprintf(o, "<text class=\"nodata\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", f.x0 + f.w / 2,
			f.y0 + f.h / 2);
		svg_esc(o, t->no_data);
		fputs("</text>\n", o);
	}
	fputs("</svg>\n", o);
	return ferror(o) ? -EIO : 0;
}
