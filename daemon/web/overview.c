/* overview.c - the overview at hub scale (issue 18): past
 * WEB_OVERVIEW_PAGE rooms a page of tiles is megabytes, so the rooms go in
 * a compact table, those with an alarm first (critical, warning, stale, then
 * normal), WEB_OVERVIEW_PAGE a page (?page=N), with a count of each state
 * and a site filter (?site=S).  The rows come from the engine
 * (engine_room_rows: a compact row per room with its state, copied under
 * the engine's lock), formatted here without it: no cJSON tree. */
#include "pages_int.h"
#include "web_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../engine.h"
#include "../i18n.h"
#include "../util.h"

/* in the order of enum engine_room_state */
enum { ST_CRIT, ST_WARN, ST_STALE, ST_OK, ST_N };
static const char *const st_name[ST_N] = { "critical", "warning", "stale", "ok" };
static const char *const st_word[ST_N] = { N_("Critical"), N_("Warning"), N_("Stale"), N_("Normal") };
_Static_assert((int)ST_CRIT == (int)ENGINE_ROOM_CRITICAL && (int)ST_WARN == (int)ENGINE_ROOM_WARNING &&
		       (int)ST_STALE == (int)ENGINE_ROOM_STALE && (int)ST_OK == (int)ENGINE_ROOM_OK,
	       "the page's states are the engine's");

static int by_state(const void *a, const void *b)
{
	const struct engine_room_row *const *x = a, *const *y = b;

	if ((*x)->state != (*y)->state)
		return (*x)->state - (*y)->state;
	return *x < *y ? -1 : *x > *y; /* the rows are in configuration order */
}

static void hub_row(FILE *o, int L, const struct engine_room_row *r)
{
	char id[128];
	int st = r->state >= 0 && r->state < ST_N ? r->state : ST_STALE;

	web_dom_id(r->name, id, sizeof(id));
	fprintf(o, "<tr id=\"room-%s\" data-room=\"", id);
	web_esc(o, r->name);
	fprintf(o, "\" data-state=\"%s\"><td><a href=\"/room/", st_name[st]);
	web_url_seg(o, r->name);
	fputs("\">", o);
	web_esc(o, r->name);
	fprintf(o, "</a></td><td><span class=\"state state-%s\">%s</span></td><td class=\"temp\">", st_name[st],
		i18n_tr(L, st_word[st]));
	web_num(o, L, r->temp_c, 1, "°C");
	fputs("</td><td class=\"rh\">", o);
	web_num(o, L, r->rh, 0, "%");
	fputs("</td><td class=\"lots\">", o);
	web_num(o, L, r->nlots, 0, NULL);
	fputs("</td><td class=\"remaining\">", o);
	web_num(o, L, r->remaining_h_min, 0, "h");
	fputs("</td></tr>", o);
}

/* "PATH?page=N&site=S" of page N (the filter kept). */
static void page_link(FILE *o, const char *path, const char *site, long page, const char *rel, const char *word)
{
	fprintf(o, "<a rel=\"%s\" href=\"%s?page=%ld", rel, path, page);
	if (site) {
		fputs("&amp;site=", o);
		web_url_seg(o, site);
	}
	fprintf(o, "\">%s</a>", word);
}

void pages_pager(FILE *o, int L, const char *path, const char *site, long page, long pages)
{
	fprintf(o, "<nav class=\"pager\" aria-label=\"%s\">", i18n_tr(L, "Pages"));
	if (page > 1)
		page_link(o, path, site, page - 1, "prev", i18n_tr(L, "Previous"));
	fprintf(o, " <span class=\"page\" data-page=\"%ld\" data-pages=\"%ld\">%s %ld / %ld</span> ", page, pages,
		i18n_tr(L, "Page"), page, pages);
	if (page < pages)
		page_link(o, path, site, page + 1, "next", i18n_tr(L, "Next"));
	fputs("</nav>", o);
}

static void summary(FILE *o, int L, struct engine_room_row *const *v, size_t n)
{
	size_t count[ST_N] = { 0 };

	for (size_t i = 0; i < n; i++)
		count[v[i]->state >= 0 && v[i]->state < ST_N ? v[i]->state : ST_STALE]++;
	fprintf(o, "<p class=\"summary\" data-rooms=\"%zu\">%s: %zu", n, i18n_tr(L, "Rooms"), n);
	for (int s = 0; s < ST_N; s++)
		fprintf(o, " · <span class=\"state state-%s\" data-count=\"%zu\">%s %zu</span>", st_name[s], count[s],
			i18n_tr(L, st_word[s]), count[s]);
	fputs("</p>", o);
}

long pages_page_arg(struct web_req *req, long pages)
{
	const char *s = web_arg(req, "page");
	char *end;
	long p = s ? strtol(s, &end, 10) : 1;

	if (!s || *end || p < 1)
		p = 1;
	return p > pages ? pages : p;
}

void pages_overview_hub(FILE *o, struct web_req *req, const struct engine_room_rows *rows, const char *site)
{
	size_t n = rows->n;
	struct engine_room_row **v = xcalloc(n ? n : 1, sizeof(*v));
	int L = req->lang_id;
	long pages, page;

	for (size_t i = 0; i < n; i++)
		v[i] = &rows->v[i];
	qsort(v, n, sizeof(*v), by_state);
	pages = n ? (long)((n + WEB_OVERVIEW_PAGE - 1) / WEB_OVERVIEW_PAGE) : 1;
	page = pages_page_arg(req, pages);
	summary(o, L, v, n);
	fprintf(o, "<form class=\"site-filter\" method=\"get\" action=\"/\"><label for=\"site\">%s</label>"
		   "<input id=\"site\" name=\"site\" maxlength=\"255\" value=\"", i18n_tr(L, "Site"));
	web_esc(o, site ? site : "");
	fprintf(o, "\"><button type=\"submit\">%s</button></form>", i18n_tr(L, "Show"));
	pages_pager(o, L, "/", site, page, pages);
	fprintf(o, "<div class=\"table-wrap\"><table id=\"rooms\" class=\"stack\"><thead><tr><th>%s</th><th>%s</th>"
		   "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
		i18n_tr(L, "Room"), i18n_tr(L, "State"), i18n_tr(L, "Temperature"), i18n_tr(L, "Relative humidity"),
		i18n_tr(L, "Lots"), i18n_tr(L, "Remaining shelf life"));
	for (size_t i = (size_t)(page - 1) * WEB_OVERVIEW_PAGE; i < n && i < (size_t)page * WEB_OVERVIEW_PAGE; i++)
		hub_row(o, L, v[i]);
	fputs("</tbody></table></div>", o);
	pages_pager(o, L, "/", site, page, pages);
	free(v);
}
