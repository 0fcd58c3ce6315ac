/* pages_int.h - what pages.c shares with detail.c (the room and lot pages):
 * readers of the engine's status JSON and the pieces of markup both use. */
#ifndef CC_WEB_PAGES_INT_H
#define CC_WEB_PAGES_INT_H

#include <stdio.h>

#include "web_int.h"

struct cJSON;
const char *pages_str(const struct cJSON *o, const char *k);
double pages_num(const struct cJSON *o, const char *k);
const struct cJSON *pages_reading(const struct cJSON *room, const char *role);
/* The room's temperature, RH and door spans of the markup contract. */
void pages_figures(FILE *o, int lang, const struct cJSON *room);
/* A lot's <li class="lot">. */
void pages_lot_item(FILE *o, int lang, const struct cJSON *lot);
/* <table id="alarms">, of one room when room is not NULL. */
void pages_alarm_table(FILE *o, struct web_req *req, const struct cJSON *alarms, const char *room);
/* Rooms a page of the overview: up to this many, a tile each (a packhouse);
 * past it the hub's table of overview.c, paged. */
#define WEB_OVERVIEW_PAGE 100
/* The hub's overview (overview.c) of the engine's rows (engine_room_rows),
 * site: the ?site= filter. */
struct engine_room_rows;
void pages_overview_hub(FILE *o, struct web_req *req, const struct engine_room_rows *rows, const char *site);
/* A list's pager (overview.c): previous, "Page N / M", next, as links to
 * PATH?page=N (and &site=S when site is not NULL). */
void pages_pager(FILE *o, int L, const char *path, const char *site, long page, long pages);
/* The ?page= asked for: 1 when absent or not a number, at most pages. */
long pages_page_arg(struct web_req *req, long pages);
/* The engine's status (engine_status_json_filtered: built under the
 * engine's lock, so no page asks for more than it shows: a hub's every
 * room is tens of milliseconds of readings and alarms held up), or NULL
 * after replying 503.  rooms: with the rooms; room: that room's only. */
struct engine_status_filter;
struct cJSON *pages_status(struct web_req *req, int rooms, const char *room);
/* The same with the caller's filter (the alarms page's slice). */
struct cJSON *pages_status_filtered(struct web_req *req, int rooms, const struct engine_status_filter *f);
/* An engine error as an HTTP status. */
int pages_engine_status(int rc);
/* Replies to an engine error (rc < 0) with its status and a catalogue word. */
int pages_engine_error(struct web_req *req, int rc);

#endif
