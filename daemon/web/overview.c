/* overview.c - the overview at hub scale (issue 18): past
 * WEB_OVERVIEW_PAGE rooms a page of tiles is megabytes, so the rooms go in
 * a compact table, those with an alarm first (critical, warning, stale, then
 * normal), WEB_OVERVIEW_PAGE a page (?page=N), with a count of each state
 * and a site filter (?site=S).  Each room's state comes from one pass over
 * the alarms (sorted room names), not a pass per room. */
#include "pages_int.h"
#include "web_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../i18n.h"
#include "../util.h"

enum { ST_CRIT, ST_WARN, ST_STALE, ST_OK, ST_N };
static const char *const st_name[ST_N] = { "critical", "warning", "stale", "ok" };
static const char *const st_word[ST_N] = { N_("Critical"), N_("Warning"), N_("Stale"), N_("Normal") };

struct hub_room {
	const cJSON *room;
	const char *name;
	int st;
	size_t order; /* in the configuration */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct hub_room *)a)->name, ((const struct hub_room *)b)->name);
}

static int by_state(const void *a, const void *b)
{
	const struct hub_room *x = a, *y = b;

	if (x->st != y->st)
		return x->st - y->st;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The worst open alarm (active or acked, not shelved) of each room, as
 * room_state in pages.c, then stale for a temperature without a fresh value. */
static void hub_states(struct hub_room *v, size_t n, const cJSON *alarms)
{
	const cJSON *a;

	qsort(v, n, sizeof(*v), by_name);
	cJSON_ArrayForEach(a, alarms) {
		const char *st = pages_str(a, "state"), *sev = pages_str(a, "severity");
		struct hub_room key = { .name = pages_str(a, "room") }, *r;
		if (!key.name || !st || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "shelved")) ||
		    (strcmp(st, "active") != 0 && strcmp(st, "acked") != 0))
			continue;
		r = bsearch(&key, v, n, sizeof(*v), by_name);
		if (r && sev && strcmp(sev, "critical") == 0)
			r->st = ST_CRIT;
		else if (r && sev && strcmp(sev, "warning") == 0 && r->st > ST_WARN)
			r->st = ST_WARN;
	}
	for (size_t i = 0; i < n; i++) {
		const cJSON *t = pages_reading(v[i].room, "temperature");
		const char *q = t ? pages_str(t, "quality") : NULL;
		if (v[i].st == ST_N)
			v[i].st = !q || strcmp(q, "stale") == 0 || strcmp(q, "none") == 0 ? ST_STALE : ST_OK;
	}
	qsort(v, n, sizeof(*v), by_state);
}

static void hub_row(FILE *o, int L, const struct hub_room *r)
{
	const cJSON *lot, *t = pages_reading(r->room, "temperature"), *h = pages_reading(r->room, "humidity");
	const cJSON *lots = cJSON_GetObjectItemCaseSensitive(r->room, "lots");
	double least = pages_num(r->room, "remaining_h_min"), nlots = pages_num(r->room, "nlots");
	char id[128];

	if (lots) { /* a full status (tests); the page asks for it in brief */
		nlots = cJSON_GetArraySize(lots);
		cJSON_ArrayForEach(lot, lots) {
			double rem = pages_num(lot, "remaining_h");
			if (isfinite(rem) && !(rem >= least))
				least = rem;
		}
	}
	web_dom_id(r->name, id, sizeof(id));
	fprintf(o, "<tr id=\"room-%s\" data-room=\"", id);
	web_esc(o, r->name);
	fprintf(o, "\" data-state=\"%s\"><td><a href=\"/room/", st_name[r->st]);
	web_url_seg(o, r->name);
	fputs("\">", o);
	web_esc(o, r->name);
	fprintf(o, "</a></td><td><span class=\"state state-%s\">%s</span></td><td class=\"temp\">", st_name[r->st],
		i18n_tr(L, st_word[r->st]));
	web_num(o, L, t ? pages_num(t, "value") : NAN, 1, "°C");
	fputs("</td><td class=\"rh\">", o);
	web_num(o, L, h ? pages_num(h, "value") : NAN, 0, "%");
	fputs("</td><td class=\"lots\">", o);
	web_num(o, L, nlots, 0, NULL);
	fputs("</td><td class=\"remaining\">", o);
	web_num(o, L, least, 0, "h");
	fputs("</td></tr>", o);
}

/* "?page=N&site=S" of page N (the filter kept). */
static void page_link(FILE *o, const char *site, long page, const char *rel, const char *word)
{
	fprintf(o, "<a rel=\"%s\" href=\"/?page=%ld", rel, page);
	if (site) {
		fputs("&amp;site=", o);
		web_url_seg(o, site);
	}
	fprintf(o, "\">%s</a>", word);
}

static void pager(FILE *o, int L, const char *site, long page, long pages)
{
	fprintf(o, "<nav class=\"pager\" aria-label=\"%s\">", i18n_tr(L, "Pages"));
	if (page > 1)
		page_link(o, site, page - 1, "prev", i18n_tr(L, "Previous"));
	fprintf(o, " <span class=\"page\" data-page=\"%ld\" data-pages=\"%ld\">%s %ld / %ld</span> ", page, pages,
		i18n_tr(L, "Page"), page, pages);
	if (page < pages)
		page_link(o, site, page + 1, "next", i18n_tr(L, "Next"));
	fputs("</nav>", o);
}

static void summary(FILE *o, int L, const struct hub_room *v, size_t n)
{
	size_t count[ST_N] = { 0 };

	for (size_t i = 0; i < n; i++)
		count[v[i].st]++;
	fprintf(o, "<p class=\"summary\" data-rooms=\"%zu\">%s: %zu", n, i18n_tr(L, "Rooms"), n);
	for (int s = 0; s < ST_N; s++)
		fprintf(o, " · <span class=\"state state-%s\" data-count=\"%zu\">%s %zu</span>", st_name[s], count[s],
			i18n_tr(L, st_word[s]), count[s]);
	fputs("</p>", o);
}

/* The page number asked for (1 when absent or not a number), at most pages. */
static long page_arg(struct web_req *req, long pages)
{
	const char *s = web_arg(req, "page");
	char *end;
	long p = s ? strtol(s, &end, 10) : 1;

	if (!s || *end || p < 1)
		p = 1;
	return p > pages ? pages : p;
}

void pages_overview_hub(FILE *o, struct web_req *req, const cJSON *st, const char *site)
{
	const cJSON *room, *rooms = cJSON_GetObjectItemCaseSensitive(st, "rooms");
	size_t n = 0, cap = (size_t)cJSON_GetArraySize(rooms);
	struct hub_room *v = xcalloc(cap ? cap : 1, sizeof(*v));
	int L = req->lang_id;
	long pages, page;

	cJSON_ArrayForEach(room, rooms) {
		v[n] = (struct hub_room){ room, pages_str(room, "name"), ST_N, n };
		if (v[n].name)
			n++;
	}
	hub_states(v, n, cJSON_GetObjectItemCaseSensitive(st, "alarms"));
	pages = n ? (long)((n + WEB_OVERVIEW_PAGE - 1) / WEB_OVERVIEW_PAGE) : 1;
	page = page_arg(req, pages);
	summary(o, L, v, n);
	fprintf(o, "<form class=\"site-filter\" method=\"get\" action=\"/\"><label for=\"site\">%s</label>"
		   "<input id=\"site\" name=\"site\" maxlength=\"255\" value=\"", i18n_tr(L, "Site"));
	web_esc(o, site ? site : "");
	fprintf(o, "\"><button type=\"submit\">%s</button></form>", i18n_tr(L, "Show"));
	pager(o, L, site, page, pages);
	fprintf(o, "<div class=\"table-wrap\"><table id=\"rooms\" class=\"stack\"><thead><tr><th>%s</th><th>%s</th>"
		   "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
		i18n_tr(L, "Room"), i18n_tr(L, "State"), i18n_tr(L, "Temperature"), i18n_tr(L, "Relative humidity"),
		i18n_tr(L, "Lots"), i18n_tr(L, "Remaining shelf life"));
	for (size_t i = (size_t)(page - 1) * WEB_OVERVIEW_PAGE; i < n && i < (size_t)page * WEB_OVERVIEW_PAGE; i++)
		hub_row(o, L, &v[i]);
	fputs("</tbody></table></div>", o);
	pager(o, L, site, page, pages);
	free(v);
}
