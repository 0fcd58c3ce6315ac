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
	const char *lang;       /* "vi" or "en" (later: Accept-Language, cookie) */
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

/* 0 when req may use a route of level; otherwise it has replied (401 to a
 * script or a non-GET, 303 to /login for a page) and returns -EACCES.  The
 * sessions engineer fills this in; today WEB_VIEW is allowed only with
 * public_status and WEB_OPERATE never. */
int web_access(struct web_req *req, enum web_access_level level);

/* ops.c: for the people who run the daemon. */
int web_page_healthz(struct web_req *req);
int web_page_metrics(struct web_req *req);
/* The latest self-metrics lines (plus the listener's own) in *out
 * (lp_buf, caller frees). */
void web_metrics_lines(struct web *w, struct lp_buf *out);

#endif
