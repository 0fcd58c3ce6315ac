/* web_int.h - private to daemon/web/: the request every handler gets and
 * the reply helpers.  A page is a handler in a file of its own plus one
 * row of routes[] in web.c:
 *
 *     int web_page_rooms(struct web_req *req)
 *     {
 *             if (web_access(req, WEB_VIEW) < 0)
 *                     return 0;              // web_access has replied
 *             ...
 *             return web_reply_json(req, 200, json);
 *     }
 *
 * A handler replies exactly once (web_reply*, web_error, web_redirect) and
 * returns 0; returning without a reply gets a 500.  Handlers run on the
 * listener's threads: they call only the engine's thread-safe functions
 * (web_engine) and must never block on I/O.  Every reply carries the
 * security headers (web.c: sec_headers); "Cache-Control: no-store" unless
 * the handler sets its own with web_header_add. */
#ifndef CC_WEB_INT_H
#define CC_WEB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "web.h"

struct cJSON;

enum web_access_level {
	WEB_PUBLIC,  /* anyone: /healthz, /metrics, /login, assets */
	WEB_VIEW,    /* read-only pages: a session (any role), or public_status */
	WEB_OPERATE, /* actions (ack, shelve, lot moves): an operator's session */
};

#define WEB_MAX_EXTRA_HEADERS 8

struct web_req {
	struct web *w;
	void *conn;             /* struct MHD_Connection *: files that need MHD (SSE) */
	const char *method;     /* "GET", "POST", ... */
	const char *path;       /* without the query */
	char client[64];        /* the peer's address, numeric */
	int tls;                /* came over HTTPS */
	const char *body;       /* POST body (NUL-terminated), at most max_request */
	size_t body_len;
	int status;             /* the status replied, 0 until then */
	const char *user;       /* the session's user, NULL without one (sessions) */
	const char *lang;       /* "vi" or "en": the `lang` cookie, else Accept-Language */
	int lang_id;            /* I18N_VI, I18N_EN (daemon/i18n.h) */
	int has_session;        /* sess holds the caller's session */
	int deferred;           /* the handler suspended the connection: it replies when called again */
	struct auth_session sess;
	size_t nextra;
	char *extra[WEB_MAX_EXTRA_HEADERS][2];
};

/* A row of the route table: path exact, or a prefix when it ends in '/'. */
struct web_route {
	const char *method; /* "GET", "POST" */
	const char *path;
	enum web_access_level access;
	int (*handler)(struct web_req *req);
};

/* Request data: a query argument, a request header (NULL when absent). */
const char *web_arg(struct web_req *req, const char *name);
const char *web_header(struct web_req *req, const char *name);
/* The engine, valid for the whole handler (NULL during a reload). */
struct engine *web_engine(struct web_req *req);
const struct web_deps *web_deps(struct web_req *req);
const struct cc_web_conf *web_conf(struct web_req *req);

/* Replies: 0, or -errno (the connection is then closed). body is copied. */
int web_reply(struct web_req *req, int status, const char *content_type, const char *body, size_t len);
int web_reply_text(struct web_req *req, int status, const char *text);
int web_reply_json(struct web_req *req, int status, struct cJSON *json); /* frees json */
int web_error(struct web_req *req, int status, const char *msg);
int web_redirect(struct web_req *req, const char *location); /* 303 See Other */
/* A reply whose body MHD makes (a stream: sse.c): the security and extra
 * headers added, queued, resp destroyed (MHD keeps its own reference). */
struct MHD_Response;
int web_reply_response(struct web_req *req, int status, const char *content_type, struct MHD_Response *resp);
/* An extra header for the reply (Set-Cookie, Cache-Control, ...); copied. */
void web_header_add(struct web_req *req, const char *name, const char *value);

/* 0 when req may use a route of level; otherwise it has replied and
 * returns -EACCES.  WEB_VIEW: a session (any role), or public_status for a
 * GET; without one a page GET gets 303 to /login?next=PATH, anything else
 * 401.  WEB_OPERATE: an operator's session (a viewer gets 403).  Every POST
 * past WEB_PUBLIC also needs the session's CSRF token in the form field
 * `csrf` (constant-time) and an Origin / Sec-Fetch-Site of this site when
 * the browser sends them (403).  Refusals are counted and logged
 * (rate-limited). */
int web_access(struct web_req *req, enum web_access_level level);

/* The users, sessions and CSRF core (auth.h); never NULL after start. */
struct auth *web_auth(struct web_req *req);
/* A cookie of the request (NULL when absent). */
const char *web_cookie(struct web_req *req, const char *name);
/* Field name of an application/x-www-form-urlencoded POST body, decoded
 * into buf: buf, or NULL when absent, longer than n - 1 bytes, or holding
 * a NUL. */
const char *web_form(struct web_req *req, const char *name, char *buf, size_t n);
/* A refusal of kind WEB_REFUSE_*: counted, logged (rate-limited) with the
 * client address and why, replied with status and msg. */
enum web_refusal { WEB_REFUSE_CSRF, WEB_REFUSE_FORBIDDEN, WEB_REFUSE_ORIGIN, WEB_REFUSE_LOGIN_LOCKED };
void web_refuse(struct web_req *req, enum web_refusal kind, int status, const char *why);
/* The same counted and logged, without a reply (the caller replies). */
void web_refuse_count(struct web_req *req, enum web_refusal kind, const char *why);
/* NULL when the browser's Origin / Sec-Fetch-Site (when sent) name this
 * site, else why not. */
const char *web_origin_refusal(struct web_req *req);
/* 1 when a and b are equal strings, in time independent of where they differ. */
int web_token_eq(const char *a, const char *b);
/* nbytes random bytes as 2*nbytes hex digits + NUL in out: 0 or -errno. */
int web_random_hex(char *out, size_t nbytes);

/* Assets compiled into the binary from static/ (build/gen/web_assets.c). */
struct web_asset {
	const char *path; /* "/static/app.css" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
	const char *etag; /* "\"sha256-prefix\"" */
};
extern const struct web_asset web_assets[];
extern const size_t web_assets_n;

/* pages.c and login.c: the pages of issue 15. */
int web_page_overview(struct web_req *req);
int web_page_alarms(struct web_req *req);
int web_page_room(struct web_req *req);
int web_page_lot(struct web_req *req);
int web_action_alarm(struct web_req *req);
int web_action_lot_move(struct web_req *req);
int web_page_login(struct web_req *req);
int web_action_login(struct web_req *req);
int web_action_logout(struct web_req *req);
int web_action_lang(struct web_req *req);
int web_page_static(struct web_req *req);
/* html.c: the page shell of the markup contract (static/README in the
 * README's "Web page").  Write the inside of <main id="main"> to p->o
 * between begin and end; end wraps it in the page (header, nav, language
 * switch, user, assets), or sends it alone to a request with
 * `X-Fragment: main` (the live updater), and replies. */
#include <stdio.h>
struct web_page {
	struct web_req *req;
	FILE *o;
	char *buf;
	size_t len;
};
int web_page_begin(struct web_page *p, struct web_req *req);
int web_page_end(struct web_page *p, int status, const char *title);
/* Text or an attribute value, escaped; a URL path segment, %-encoded. */
void web_esc(FILE *o, const char *s);
void web_url_seg(FILE *o, const char *s);
/* v with decimals digits in the page's language (vi: decimal comma), then
 * unit (with a space) when not NULL; "–" for a NaN. */
void web_num(FILE *o, int lang, double v, int decimals, const char *unit);
/* A time (ns since the epoch) in the site's zone, TIME_LOCAL_SHORT, inside
 * <time datetime="ISO">. */
void web_time(FILE *o, int64_t ns);
/* An ISO 8601 time as the engine's JSON gives it, shown as web_time. */
void web_time_iso(FILE *o, const char *iso);
/* 1 when next is a path on this site ("/x", not "//x"), safe to redirect to. */
int web_next_ok(const char *next);
/* A decoded path, %-encoded for a URL (keeping '/'). */
void web_url_path(FILE *o, const char *s);
/* 303 to path (decoded, as web_arg and web_form give it) when web_next_ok,
 * else to "/"; %-encoded. */
int web_redirect_local(struct web_req *req, const char *path);

/* ROOMID of the markup contract: name with anything outside
 * [A-Za-z0-9_-] as '_' (truncated to n - 1 bytes). */
void web_dom_id(const char *name, char *buf, size_t n);

/* sse.c: GET /events (WEB_VIEW), live updates; web_start and web_stop
 * open the hub and end every stream (before MHD stops). */
int web_page_events(struct web_req *req);
void web_sse_open(void);
void web_sse_close(void);

/* report_page.c: GET /lot/ID/report (csv 0) and /lot/ID/report.csv (csv
 * 1), WEB_VIEW, called by web_page_lot: the lot's storage-history report
 * made on a worker thread with the connection suspended (req->deferred),
 * replied when MHD calls the handler again; one at a time (503 meanwhile).
 * web_report_forget: a connection's end (on_completed); web_report_close:
 * before MHD stops (a running report is abandoned, its connection resumed). */
int web_page_lot_report(struct web_req *req, const char *lot, size_t lotlen, int csv);
void web_report_forget(void *conn);
void web_report_close(void);
void web_report_stats(uint64_t *served, uint64_t *refused, uint64_t *failed, int *running);

/* ops.c: for the people who run the daemon. */
int web_page_healthz(struct web_req *req);
int web_page_metrics(struct web_req *req);
/* The latest self-metrics lines (plus the listener's own) in *out
 * (lp_buf, caller frees). */
void web_metrics_lines(struct web *w, struct lp_buf *out);

#endif
