/* web.c - the HTTP listener: libmicrohttpd with a pool of two threads, the
 * bounds of group web (connections, per address, idle timeout, request
 * size), TLS, the route table, access, replies with the security headers,
 * and the listener's self-metrics.  The only file besides other
 * daemon/web/ files that sees <microhttpd.h>. */
#include "web.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../i18n.h"
#include "../log.h"
#include "../util.h"
#include "web_int.h"

/* The routes: method, path (a prefix when it ends in '/', except "/"
 * itself), access, handler. */
static const struct web_route routes[] = {
	{ "GET", "/healthz", WEB_PUBLIC, web_page_healthz },
	{ "GET", "/metrics", WEB_PUBLIC, web_page_metrics },
	{ "GET", "/", WEB_VIEW, web_page_overview },
	{ "GET", "/alarms", WEB_VIEW, web_page_alarms },
	{ "POST", "/alarms/ack", WEB_OPERATE, web_action_alarm },
	{ "POST", "/alarms/shelve", WEB_OPERATE, web_action_alarm },
	{ "POST", "/alarms/unshelve", WEB_OPERATE, web_action_alarm },
	{ "GET", "/room/", WEB_VIEW, web_page_room },
	{ "POST", "/lot/move", WEB_OPERATE, web_action_lot_move },
	{ "GET", "/lot/", WEB_VIEW, web_page_lot },
	{ "GET", "/login", WEB_PUBLIC, web_page_login },
	{ "POST", "/login", WEB_PUBLIC, web_action_login },
	{ "POST", "/logout", WEB_VIEW, web_action_logout },
	{ "GET", "/lang", WEB_PUBLIC, web_action_lang },
	{ "GET", "/static/", WEB_PUBLIC, web_page_static },
	{ "GET", "/events", WEB_VIEW, web_page_events },
};

enum { CNT_1XX, CNT_2XX, CNT_3XX, CNT_4XX, CNT_5XX, CNT_TOO_LARGE, CNT_HDR_TOO_LARGE, CNT_CONN_LIMIT, CNT_IP_LIMIT,
       CNT_DENIED, CNT_CSRF, CNT_FORBIDDEN, CNT_ORIGIN, CNT_LOCKED, CNT_N };
static const char *const cnt_names[CNT_N] = { "requests_1xx", "requests_2xx", "requests_3xx", "requests_4xx",
					      "requests_5xx", "refused_too_large", "refused_headers_too_large",
					      "refused_connections", "refused_per_ip", "refused_access", "refused_csrf",
					      "refused_role", "refused_origin", "refused_login_locked" };

struct ip_slot {
	struct sockaddr_storage addr;
	int n;
};

struct web {
	struct MHD_Daemon *d;
	const struct cc_web_conf *conf; /* &own */
	struct cc_web_conf own;         /* a copy: a reload frees the configuration */
	char *own_site;                 /* deps.site's copy, for the same reason */
	struct web_deps deps;
	pthread_rwlock_t engine_lock;
	pthread_mutex_t mu; /* everything below */
	uint64_t cnt[CNT_N];
	int connections;
	struct ip_slot *ips; /* max_connections of them */
	char *metrics;       /* latest stats_emit lines */
	size_t metrics_len;
	struct log_rl rl[CNT_N]; /* one per kind of refusal */
	char *cert, *key;
	struct auth *auth;
};

/* What MHD keeps for one request between its calls. */
struct req_state {
	struct web_req r;
	char *body;
	size_t len, cap;
	int too_large;
};

static void count(struct web *w, int c)
{
	pthread_mutex_lock(&w->mu);
	w->cnt[c]++;
	pthread_mutex_unlock(&w->mu);
}

/* A refusal: counted, logged at most once a minute per kind, with how
 * many more were not. */
__attribute__((format(printf, 3, 4))) static void refused(struct web *w, int c, const char *fmt, ...)
{
	uint32_t more = 0;
	int allow;
	char msg[256];
	va_list ap;

	pthread_mutex_lock(&w->mu);
	w->cnt[c]++;
	allow = log_rl_allow(&w->rl[c], 60000, &more);
	pthread_mutex_unlock(&w->mu);
	if (!allow)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (more)
		log_warn("web: %s (%" PRIu32 " more refusals not logged)", msg, more);
	else
		log_warn("web: %s", msg);
}

static int same_ip(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

static void addr_text(const struct sockaddr *a, char *buf, size_t len)
{
	if (getnameinfo(a, a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), buf,
			(socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
		strlcpy_cc(buf, "?", len);
}

/* The per-address bound is ours (MHD's own refuses without a word, so it
 * could be neither counted nor logged): a slot per address in use. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct web *w = cls;
	struct ip_slot *s = NULL;
	int n = w->conf->max_connections, over = 0;
	char txt[64];

	(void)addrlen;
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < n && !s; i++)
		if (w->ips[i].n > 0 && same_ip(addr, &w->ips[i].addr))
			s = &w->ips[i];
	for (int i = 0; i < n && !s; i++)
		if (w->ips[i].n == 0) {
			s = &w->ips[i];
			memcpy(&s->addr, addr, addrlen < sizeof(s->addr) ? addrlen : sizeof(s->addr));
		}
	if (!s || s->n >= w->conf->per_ip_connections)
		over = 1;
	else
		s->n++;
	pthread_mutex_unlock(&w->mu);
	if (!over)
		return MHD_YES;
	addr_text(addr, txt, sizeof(txt));
	refused(w, CNT_IP_LIMIT, "%s: refused a connection: per_ip_connections (%d) reached", txt,
		w->conf->per_ip_connections);
	return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct web *w = cls;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	(void)socket_context;
	pthread_mutex_lock(&w->mu);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		w->connections++;
	} else {
		w->connections--;
		for (int i = 0; ci && i < w->conf->max_connections; i++)
			if (w->ips[i].n > 0 && same_ip(ci->client_addr, &w->ips[i].addr)) {
				w->ips[i].n--;
				break;
			}
	}
	pthread_mutex_unlock(&w->mu);
}

/* MHD's own messages, into our log; its refusal at the connection limit
 * is counted.  fmt is MHD's printf format (the attribute lets the compiler
 * check vsnprintf's use of it instead of refusing a non-literal format). */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct web *w = cls;
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (strstr(msg, "reached connection limit"))
		refused(w, CNT_CONN_LIMIT, "refused a connection: max_connections (%d) reached",
			w->conf->max_connections);
	else
		log_info("web: %s", msg);
}

/* --- the request API (web_int.h) ------------------------------------- */

const char *web_arg(struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *web_header(struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct engine *web_engine(struct web_req *req)
{
	return req->w->deps.engine;
}

const struct web_deps *web_deps(struct web_req *req)
{
	return &req->w->deps;
}

const struct cc_web_conf *web_conf(struct web_req *req)
{
	return req->w->conf;
}

void web_header_add(struct web_req *req, const char *name, const char *value)
{
	if (req->nextra >= WEB_MAX_EXTRA_HEADERS)
		return;
	req->extra[req->nextra][0] = xstrdup(name);
	req->extra[req->nextra][1] = xstrdup(value);
	req->nextra++;
}

static int has_extra(const struct web_req *req, const char *name)
{
	for (size_t i = 0; i < req->nextra; i++)
		if (strcasecmp(req->extra[i][0], name) == 0)
			return 1;
	return 0;
}

/* On every response: no script or frame from elsewhere, no inline script,
 * no MIME sniffing, no framing, no referrer off the site. */
static void sec_headers(struct MHD_Response *resp, const struct web_req *req)
{
	if (!has_extra(req, "Content-Security-Policy")) /* the lot report's own (report_page.c) */
		MHD_add_response_header(resp, "Content-Security-Policy",
					"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	if (!has_extra(req, "Cache-Control"))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (req->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

int web_reply(struct web_req *req, int status, const char *content_type, const char *body, size_t len)
{
	struct MHD_Response *resp;

	if (req->status)
		return -EALREADY;
	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return -ENOMEM;
	return web_reply_response(req, status, content_type, resp);
}

int web_reply_response(struct web_req *req, int status, const char *content_type, struct MHD_Response *resp)
{
	enum MHD_Result r;

	if (req->status) {
		MHD_destroy_response(resp);
		return -EALREADY;
	}
	sec_headers(resp, req);
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	for (size_t i = 0; i < req->nextra; i++)
		MHD_add_response_header(resp, req->extra[i][0], req->extra[i][1]);
	r = MHD_queue_response(req->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	req->status = status;
	count(req->w, status >= 100 && status < 600 ? status / 100 - 1 : CNT_5XX);
	return r == MHD_YES ? 0 : -EIO;
}

int web_reply_text(struct web_req *req, int status, const char *text)
{
	return web_reply(req, status, "text/plain; charset=utf-8", text, strlen(text));
}

int web_reply_json(struct web_req *req, int status, struct cJSON *json)
{
	char *s = json ? cJSON_PrintUnformatted(json) : NULL;
	int rc;

	cJSON_Delete(json);
	if (!s)
		return web_error(req, 500, "out of memory");
	rc = web_reply(req, status, "application/json", s, strlen(s));
	cJSON_free(s);
	return rc;
}

/* A browser (Accept names text/html) gets a small page in its language
 * (html.c); any other client the status and msg in English plain text. */
int web_error(struct web_req *req, int status, const char *msg)
{
	const char *accept = web_header(req, "Accept");
	char buf[512];

	if (accept && strstr(accept, "text/html") && !web_header(req, "X-Fragment"))
		return web_error_page(req, status, msg);
	snprintf(buf, sizeof(buf), "%d %s\n", status, msg);
	return web_reply_text(req, status, buf);
}

int web_redirect(struct web_req *req, const char *location)
{
	web_header_add(req, "Location", location);
	return web_reply_text(req, 303, "See Other\n");
}

struct auth *web_auth(struct web_req *req)
{
	return req->w->auth;
}

const char *web_cookie(struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *web_form(struct web_req *req, const char *name, char *buf, size_t n)
{
	size_t kl = strlen(name);
	const char *p = req->body;

	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > kl && strncmp(p, name, kl) == 0 && p[kl] == '=') {
			size_t vl = len - kl - 1;
			if (vl >= n)
				return NULL;
			memcpy(buf, p + kl + 1, vl);
			buf[vl] = '\0';
			for (char *q = buf; *q; q++)
				if (*q == '+')
					*q = ' ';
			return MHD_http_unescape(buf) == strlen(buf) ? buf : NULL;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

int web_token_eq(const char *a, const char *b)
{
	size_t la, lb;
	unsigned char d = 0;

	if (!a || !b)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i < lb ? i : 0]);
	return d == 0 && la == lb && la > 0;
}

int web_random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];
	size_t got = 0;

	if (nbytes > sizeof(b))
		return -EINVAL;
	while (got < nbytes) {
		ssize_t r = getrandom(b + got, nbytes - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

void web_refuse_count(struct web_req *req, enum web_refusal kind, const char *why)
{
	static const int cnt[] = { CNT_CSRF, CNT_FORBIDDEN, CNT_ORIGIN, CNT_LOCKED };

	refused(req->w, cnt[kind], "%s: refused %s %s%s%s: %s", req->client, req->method, req->path,
		req->has_session ? " by " : "", req->has_session ? req->sess.user : "", why);
}

void web_refuse(struct web_req *req, enum web_refusal kind, int status, const char *why)
{
	web_refuse_count(req, kind, why);
	web_error(req, status, why);
}

/* Defence in depth behind the CSRF token: a browser names where a POST
 * came from; another site's is refused.  Absent headers (curl, old
 * browsers) leave the token alone to decide. */
const char *web_origin_refusal(struct web_req *req)
{
	const char *origin = web_header(req, "Origin"), *site = web_header(req, "Sec-Fetch-Site");
	const char *host = web_header(req, "Host");
	char want[300];

	if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return "Sec-Fetch-Site is not same-origin";
	if (!origin)
		return NULL;
	snprintf(want, sizeof(want), "%s://%s", req->tls ? "https" : "http", host ? host : "");
	return strcmp(origin, want) == 0 ? NULL : "Origin is not this site";
}

/* The request's language: the lang cookie, else Accept-Language (set
 * before anything can reply, so every refusal is in it). */
static void req_language(struct web_req *req)
{
	const char *l = web_cookie(req, "lang");

	if (l && strcmp(l, "en") == 0)
		req->lang_id = I18N_EN;
	else if (l && strcmp(l, "vi") == 0)
		req->lang_id = I18N_VI;
	else
		req->lang_id = i18n_lang_from_accept(web_header(req, "Accept-Language"));
	req->lang = i18n_lang_code(req->lang_id);
}

/* Who is asking: the session cookie. */
static void identify(struct web_req *req)
{
	const char *c = web_cookie(req, AUTH_COOKIE_NAME);

	if (c && auth_session_find(req->w->auth, c, time_now_ns() / 1000000, &req->sess) == 0) {
		req->has_session = 1;
		req->user = req->sess.user;
	}
}

static void deny_anonymous(struct web_req *req)
{
	char loc[600];

	refused(req->w, CNT_DENIED, "%s: refused %s %s: no session", req->client, req->method, req->path);
	if (strcmp(req->method, "GET") == 0 && !web_header(req, "X-Fragment")) {
		snprintf(loc, sizeof(loc), "/login?next=");
		for (const char *p = req->path; *p && strlen(loc) + 4 < sizeof(loc); p++) {
			unsigned char ch = (unsigned char)*p;
			size_t l = strlen(loc);
			if (isalnum(ch) || strchr("/-_.~", ch))
				loc[l] = (char)ch, loc[l + 1] = '\0';
			else
				snprintf(loc + l, sizeof(loc) - l, "%%%02X", ch);
		}
		web_redirect(req, loc);
	} else {
		web_error(req, 401, "login required");
	}
}

int web_access(struct web_req *req, enum web_access_level level)
{
	char tok[AUTH_TOKEN_HEX + 2];
	const char *why;
	int post = strcmp(req->method, "POST") == 0;

	if (level == WEB_PUBLIC)
		return 0;
	if (!req->has_session) {
		if (level == WEB_VIEW && !post && req->w->conf->public_status)
			return 0;
		deny_anonymous(req);
		return -EACCES;
	}
	if (level == WEB_OPERATE && req->sess.role != AUTH_ROLE_OPERATOR) {
		web_refuse(req, WEB_REFUSE_FORBIDDEN, 403, "an operator's action: this user is a viewer");
		return -EACCES;
	}
	if (!post)
		return 0;
	if ((why = web_origin_refusal(req))) {
		web_refuse(req, WEB_REFUSE_ORIGIN, 403, why);
		return -EACCES;
	}
	if (!auth_csrf_check(&req->sess, web_form(req, "csrf", tok, sizeof(tok)))) {
		web_refuse(req, WEB_REFUSE_CSRF, 403, "missing or wrong CSRF token");
		return -EACCES;
	}
	return 0;
}

/* --- dispatch ------------------------------------------------------------- */

static int route_match(const struct web_route *rt, const char *path)
{
	size_t n = strlen(rt->path);

	/* "/" itself is exact: a prefix of every path otherwise */
	return n > 1 && rt->path[n - 1] == '/' ? strncmp(path, rt->path, n) == 0 : strcmp(path, rt->path) == 0;
}

/* The route's handler, or 404, or 405 with the methods the path allows. */
static void dispatch(struct web_req *req)
{
	char allow[64] = "";
	int found = 0;

	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!route_match(&routes[i], req->path))
			continue;
		found = 1;
		if (!req->has_session)
			identify(req);
		if (strcmp(routes[i].method, req->method) == 0 ||
		    (strcmp(req->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			if (web_access(req, routes[i].access) < 0)
				return;
			pthread_rwlock_rdlock(&req->w->engine_lock);
			routes[i].handler(req);
			pthread_rwlock_unlock(&req->w->engine_lock);
			if (!req->status && !req->deferred)
				web_error(req, 500, "internal error");
			return;
		}
		if (!strstr(allow, routes[i].method) && strlen(allow) + strlen(routes[i].method) + 3 < sizeof(allow)) {
			if (*allow)
				strcat(allow, ", ");
			strcat(allow, routes[i].method);
		}
	}
	if (!found) {
		web_error(req, 404, "not found");
		return;
	}
	web_header_add(req, "Allow", allow);
	web_error(req, 405, "method not allowed");
}

static struct req_state *state_new(struct web *w, struct MHD_Connection *c, const char *url, const char *method)
{
	struct req_state *st = xcalloc(1, sizeof(*st));
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	st->r.w = w;
	st->r.conn = c;
	st->r.method = method;
	st->r.path = url;
	st->r.tls = w->conf->cert_file != NULL;
	if (ci)
		addr_text(ci->client_addr, st->r.client, sizeof(st->r.client));
	req_language(&st->r);
	return st;
}

/* Appends an upload chunk; past max_request the rest is read and dropped. */
static void body_add(struct req_state *st, const char *data, size_t n, size_t max)
{
	if (st->too_large || st->len + n > max) {
		st->too_large = 1;
		return;
	}
	if (st->len + n + 1 > st->cap) {
		st->cap = st->len + n + 1 > 2 * st->cap ? st->len + n + 1 : 2 * st->cap;
		st->body = xrealloc(st->body, st->cap);
	}
	memcpy(st->body + st->len, data, n);
	st->len += n;
	st->body[st->len] = '\0';
}

static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
	return MHD_YES;
}

/* The request line and headers as they came, near enough: what max_request
 * bounds besides the body. */
static size_t header_bytes(struct MHD_Connection *c, const char *url, const char *method)
{
	size_t n = strlen(method) + strlen(url) + 12;

	MHD_get_connection_values(c, MHD_HEADER_KIND, add_len, &n);
	return n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct web *w = cls;
	struct req_state *st = *con_cls;
	size_t max = (size_t)w->conf->max_request;

	(void)version;
	if (!st) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		size_t hb = header_bytes(c, url, method);
		*con_cls = st = state_new(w, c, url, method);
		if (hb > max) {
			refused(w, CNT_HDR_TOO_LARGE, "%s: refused a %s request with %zu bytes of headers: max_request is %zu",
				st->r.client, method, hb, max);
			web_error(&st->r, 431, "request headers too large");
			return MHD_YES;
		}
		if (cl && strtoull(cl, NULL, 10) > max - hb) {
			refused(w, CNT_TOO_LARGE, "%s: refused a %s request of %s bytes: max_request is %zu", st->r.client,
				method, cl, max);
			web_error(&st->r, 413, "request too large");
			return MHD_YES;
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!st->r.status)
			body_add(st, upload_data, *upload_data_size, max - header_bytes(c, url, method));
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (st->r.status)
		return MHD_YES;
	if (st->too_large) {
		refused(w, CNT_TOO_LARGE, "%s: refused a %s request body over max_request (%zu bytes)", st->r.client,
			method, max);
		return web_error(&st->r, 413, "request too large") == 0 ? MHD_YES : MHD_NO;
	}
	st->r.body = st->body ? st->body : "";
	st->r.body_len = st->len;
	dispatch(&st->r);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req_state *st = *con_cls;

	(void)cls;
	(void)toe;
	web_report_forget(c);
	if (!st)
		return;
	for (size_t i = 0; i < st->r.nextra; i++) {
		free(st->r.extra[i][0]);
		free(st->r.extra[i][1]);
	}
	free(st->body);
	free(st);
	*con_cls = NULL;
}

/* --- start, stop, feed ----------------------------------------------------- */

static char *read_file_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = xmalloc(1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int resolve(const char *listen, struct sockaddr_storage *ss, int *v6)
{
	char host[256], port[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	int p, rc;

	if (config_parse_listen(listen, host, sizeof(host), &p) < 0)
		return -EINVAL;
	snprintf(port, sizeof(port), "%d", p);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		log_err("web: listen %s: %s", listen, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}

static struct MHD_Daemon *daemon_open(struct web *w, struct sockaddr_storage *ss, int v6)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const struct cc_web_conf *c = w->conf;
	unsigned timeout = (unsigned)((c->timeout_ms + 999) / 1000);
	/* MHD's pool per connection holds the headers and its own buffers:
	 * room for headers of max_request (checked, 431, in on_request) and
	 * 8 KiB for the parsed headers and the reply's; past the pool MHD
	 * itself answers 431 or closes.  MHD zeroes the whole pool after each
	 * request, so an idle keep-alive connection holds all of it resident:
	 * no more than needed (2 x max_request was +1 MiB at 60 connections,
	 * README "Web page", the figures) */
	size_t mem = (size_t)c->max_request + 8192;

	if (v6)
		flags |= MHD_USE_IPv6;
	if (c->cert_file) {
		flags |= MHD_USE_TLS;
		return MHD_start_daemon(flags, 0, on_accept, w, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w,
					MHD_OPTION_SOCK_ADDR, ss,
					MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT,
					(unsigned)c->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
					MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
					w, MHD_OPTION_NOTIFY_CONNECTION, on_connection, w, MHD_OPTION_HTTPS_MEM_CERT, w->cert, MHD_OPTION_HTTPS_MEM_KEY, w->key,
					MHD_OPTION_END);
	}
	return MHD_start_daemon(flags, 0, on_accept, w, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w,
					MHD_OPTION_SOCK_ADDR, ss,
				MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
				MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_NOTIFY_CONNECTION,
				on_connection, w, MHD_OPTION_END);
}

static void web_free(struct web *w)
{
	pthread_rwlock_destroy(&w->engine_lock);
	pthread_mutex_destroy(&w->mu);
	free(w->ips);
	free(w->metrics);
	free(w->own.listen);
	free(w->own_site);
	free(w->own.cert_file);
	free(w->own.key_file);
	free(w->own.users_file);
	free(w->cert);
	auth_free(w->auth);
	if (w->key) {
		explicit_bzero(w->key, strlen(w->key));
		free(w->key);
	}
	free(w);
}

struct web *web_start(const struct cc_web_conf *conf, const struct web_deps *deps)
{
	struct web *w;
	struct sockaddr_storage ss = { 0 };
	int v6 = 0;

	if (!conf) {
		errno = EINVAL;
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->own = *conf;
	w->own.listen = xstrdup(conf->listen);
	w->own.cert_file = conf->cert_file ? xstrdup(conf->cert_file) : NULL;
	w->own.key_file = conf->key_file ? xstrdup(conf->key_file) : NULL;
	w->own.users_file = conf->users_file ? xstrdup(conf->users_file) : NULL;
	w->conf = conf = &w->own;
	w->deps = *deps;
	w->own_site = deps->site ? xstrdup(deps->site) : NULL;
	w->deps.site = w->own_site;
	w->ips = xcalloc((size_t)conf->max_connections, sizeof(*w->ips));
	pthread_rwlock_init(&w->engine_lock, NULL);
	pthread_mutex_init(&w->mu, NULL);
	if (resolve(conf->listen, &ss, &v6) < 0)
		goto fail_inval;
	{
		struct auth_limits lim = { .idle_ms = conf->session_idle_ms, .absolute_ms = conf->session_max_ms };
		w->auth = auth_new(&lim);
	}
	if (!w->auth) {
		log_err("web: cannot set up sessions: %s", strerror(errno));
		goto fail_inval;
	}
	web_reload_users(w);
	if (conf->cert_file) {
		w->cert = read_file_all(conf->cert_file);
		w->key = read_file_all(conf->key_file);
		if (!w->cert || !w->key) {
			log_err("web: cannot read %s: %s", w->cert ? conf->key_file : conf->cert_file, strerror(errno));
			goto fail_inval;
		}
	}
	web_sse_open(w->auth);
	w->d = daemon_open(w, &ss, v6);
	if (!w->d) {
		int e = errno ? errno : EINVAL;
		log_err("web: cannot listen on %s%s: %s", conf->listen, conf->cert_file ? " (TLS)" : "", strerror(e));
		web_sse_close();
		web_free(w);
		errno = e;
		return NULL;
	}
	log_info("web: listening on %s (%s), %d connections at most, %d per address", conf->listen,
		 conf->cert_file ? "https" : "http", conf->max_connections, conf->per_ip_connections);
	return w;
fail_inval:
	web_free(w);
	errno = EINVAL;
	return NULL;
}

void web_reload_users(struct web *w)
{
	char *err = NULL;
	struct auth_stats st;

	if (!w || !w->conf->users_file) {
		if (w)
			log_warn("web: no users_file: nobody can log in");
		return;
	}
	if (auth_users_load(w->auth, w->conf->users_file, &err) < 0) {
		log_err("web: users_file %s not loaded, keeping the users before:\n%s", w->conf->users_file,
			err ? err : "");
		free(err);
		return;
	}
	auth_stats_get(w->auth, &st);
	log_info("web: %d users from %s", st.users, w->conf->users_file);
}

void web_stop(struct web *w)
{
	if (!w)
		return;
	web_sse_close(); /* MHD must not stop with a connection suspended */
	web_report_close();
	MHD_stop_daemon(w->d);
	web_free(w);
}

void web_set_engine(struct web *w, struct engine *e)
{
	if (!w)
		return;
	pthread_rwlock_wrlock(&w->engine_lock);
	w->deps.engine = e;
	pthread_rwlock_unlock(&w->engine_lock);
}

void web_set_metrics(struct web *w, const char *lines, size_t len)
{
	char *copy;

	if (!w)
		return;
	copy = xmalloc(len + 1);
	memcpy(copy, lines, len);
	copy[len] = '\0';
	pthread_mutex_lock(&w->mu);
	free(w->metrics);
	w->metrics = copy;
	w->metrics_len = len;
	pthread_mutex_unlock(&w->mu);
}

void web_metrics_lines(struct web *w, struct lp_buf *out)
{
	pthread_mutex_lock(&w->mu);
	if (w->metrics) {
		out->data = xmalloc(w->metrics_len + 1);
		memcpy(out->data, w->metrics, w->metrics_len + 1);
		out->len = w->metrics_len;
		out->cap = w->metrics_len + 1;
	}
	pthread_mutex_unlock(&w->mu);
}

void web_emit_stats(struct web *w, struct lp_buf *b, const char *site, int64_t ts_ns)
{
	struct lp_field f[CNT_N + 15];
	uint64_t rs, rr, rf;
	int rrun;
	struct lp_tag tags[] = { { "site", site } };
	struct auth_stats st;
	struct web_sse_stats ss;
	size_t k = 0;

	if (!w)
		return;
	/* the periodic sweep: sessions nobody came back with; and the free
	 * memory the listener's threads left in their malloc arenas after
	 * rendering (60 KB pages, the status JSON) given back to the system */
	auth_sessions_expire(w->auth, time_now_ns() / 1000000);
	malloc_trim(0);
	auth_stats_get(w->auth, &st);
	web_sse_stats(&ss);
	pthread_mutex_lock(&w->mu);
	for (int i = 0; i < CNT_N; i++)
		f[k++] = (struct lp_field){ .key = cnt_names[i], .type = LP_INT, .v.i = (int64_t)w->cnt[i] };
	f[k++] = (struct lp_field){ .key = "connections", .type = LP_INT, .v.i = w->connections };
	pthread_mutex_unlock(&w->mu);
	f[k++] = (struct lp_field){ .key = "login_ok", .type = LP_INT, .v.i = (int64_t)st.login_ok };
	f[k++] = (struct lp_field){ .key = "login_failed", .type = LP_INT, .v.i = (int64_t)st.login_failed };
	f[k++] = (struct lp_field){ .key = "login_locked", .type = LP_INT, .v.i = (int64_t)st.login_locked };
	f[k++] = (struct lp_field){ .key = "sessions", .type = LP_INT, .v.i = st.sessions };
	f[k++] = (struct lp_field){ .key = "sessions_evicted", .type = LP_INT, .v.i = (int64_t)st.sessions_evicted };
	f[k++] = (struct lp_field){ .key = "users", .type = LP_INT, .v.i = st.users };
	f[k++] = (struct lp_field){ .key = "live_streams", .type = LP_INT, .v.i = ss.subscribers };
	f[k++] = (struct lp_field){ .key = "live_refused", .type = LP_INT, .v.i = (int64_t)ss.refused };
	f[k++] = (struct lp_field){ .key = "live_dropped", .type = LP_INT, .v.i = (int64_t)ss.dropped };
	f[k++] = (struct lp_field){ .key = "live_events", .type = LP_INT, .v.i = (int64_t)ss.events };
	web_report_stats(&rs, &rr, &rf, &rrun);
	f[k++] = (struct lp_field){ .key = "reports", .type = LP_INT, .v.i = (int64_t)rs };
	f[k++] = (struct lp_field){ .key = "reports_refused_busy", .type = LP_INT, .v.i = (int64_t)rr };
	f[k++] = (struct lp_field){ .key = "reports_failed", .type = LP_INT, .v.i = (int64_t)rf };
	f[k++] = (struct lp_field){ .key = "report_running", .type = LP_INT, .v.i = rrun };
	lp_encode(b, "coldchaind_web", tags, ARRAY_SIZE(tags), f, k, ts_ns);
}
