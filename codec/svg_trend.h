/* svg_trend.h - a 24-hour trend as inline SVG for the room page (issue
 * 15): per bucket the min-max range as a shaded area, the mean as a line,
 * the limits as dashed lines, gaps as breaks (never bridged), time ticks
 * in the site's zone, a <title> for screen readers.  Pure: the caller
 * copies the engine's ring out (engine_room_trend) and translates the
 * words; this writes SVG with every given string escaped. */
#ifndef CC_SVG_TREND_H
#define CC_SVG_TREND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct svg_trend_point {
	double min, max, mean;
	uint32_t n; /* 0: no data (a gap) */
};

struct svg_trend {
	int64_t start_ns, step_ns;         /* p[i] covers start + i*step .. + step */
	const struct svg_trend_point *p;
	size_t n;                          /* 1..SVG_TREND_MAX_POINTS */
	double lim_lo, lim_hi;             /* dashed lines; NaN: none */
	const char *title;                 /* <title> and aria-label, e.g. "Room A: temperature, last 24 hours" */
	const char *unit;                  /* "°C", "%" */
	const char *cls;                   /* CSS class of the series: "temp", "rh" (letters only) */
	const char *no_data;               /* shown when no bucket has data: "No data" in the page's language */
	int width, height;                 /* viewBox; 0: 720 x 240 */
};

#define SVG_TREND_MAX_POINTS 4096

/* XML/HTML text or attribute escaping of s (NULL: nothing) to o. */
void svg_esc(FILE *o, const char *s);
/* Writes the chart.  0, or -EINVAL (no points, too many, a step <= 0, a
 * class that is not letters), -EIO (o failed). */
int svg_trend_write(FILE *o, const struct svg_trend *t);

#endif
