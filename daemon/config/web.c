/* web.c - group web (the daemon's HTTP listener: status page, /healthz,
 * /metrics) and the root key timezone: their tables, checks, printer and
 * destructor.  Every key needs a restart: the listener is opened once. */
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int config_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long p;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static const char *check_listen(const char *s)
{
	char host[256];
	int port;

	if (config_parse_listen(s, host, sizeof(host), &port) < 0)
		return "must be HOST:PORT or [IPV6]:PORT, port 1-65535 (e.g. \"127.0.0.1:8470\", \"[::1]:8470\")";
	return NULL;
}

const char *check_tz(const char *s)
{
	if (config_check_timezone(s) < 0)
		return "must be an IANA time zone with a TZif file under /usr/share/zoneinfo (e.g. \"Asia/Ho_Chi_Minh\")";
	return NULL;
}

enum { WK_LISTEN, WK_CERT, WK_KEY, WK_USERS, WK_PUBLIC, WK_MAXCONN, WK_PERIP, WK_TIMEOUT, WK_MAXREQ, WK_SIDLE, WK_SMAX, WK_URL, WK_N };
static const char *check_public_url(const char *s)
{
	return check_http_url(s, 0);
}

static const struct key web_keys[] = {
	[WK_LISTEN] = { .name = "listen", .kt = KT_STR, .flags = KF_RESTART, .off = OFF(cc_web_conf, listen),
			.def = "127.0.0.1:8470", .check = check_listen,
			.help = "address and port of the HTTP listener: HOST:PORT or [IPV6]:PORT (a LAN address to "
				"serve the packhouse's tablets)" },
	[WK_CERT] = { .name = "cert_file", .kt = KT_PATH, .flags = KF_RESTART, .off = OFF(cc_web_conf, cert_file),
		      .help = "with key_file: serve HTTPS with this PEM certificate (chain); unset = plain HTTP" },
	[WK_KEY] = { .name = "key_file", .kt = KT_PATH, .flags = KF_RESTART, .off = OFF(cc_web_conf, key_file),
		     .help = "with cert_file: the PEM private key (readable by its owner only: chmod 600)" },
	[WK_USERS] = { .name = "users_file", .kt = KT_PATH, .flags = KF_RESTART, .off = OFF(cc_web_conf, users_file),
		       .help = "name:hash:role lines of the page's users (readable by its owner only: chmod 600); "
			       "unset = nobody can log in; the file is read again on SIGHUP (its path needs a restart)" },
	[WK_PUBLIC] = { .name = "public_status", .kt = KT_BOOL, .flags = KF_RESTART,
			.off = OFF(cc_web_conf, public_status), .def = "false",
			.help = "show the read-only status pages without a login (actions always need one)" },
	[WK_MAXCONN] = { .name = "max_connections", .kt = KT_INT, .flags = KF_RESTART,
			 .off = OFF(cc_web_conf, max_connections), .def = "256", .min = 4, .max = 4096,
			 .help = "open HTTP connections at most; more are refused (counted)" },
	[WK_PERIP] = { .name = "per_ip_connections", .kt = KT_INT, .flags = KF_RESTART,
		       .off = OFF(cc_web_conf, per_ip_connections), .def = "32", .min = 1, .max = 4096,
		       .help = "open HTTP connections from one client address at most; more are refused (counted)" },
	[WK_TIMEOUT] = { .name = "timeout", .kt = KT_DUR, .flags = KF_RESTART, .off = OFF(cc_web_conf, timeout_ms),
			 .def = "30s", .min = 1000, .max = 3600000,
			 .help = "an idle connection is closed after this (whole seconds)" },
	[WK_MAXREQ] = { .name = "max_request", .kt = KT_SIZE, .flags = KF_RESTART,
			.off = OFF(cc_web_conf, max_request), .def = "16K", .min = 4096.0, .max = 1048576.0,
			.help = "bytes of a request's line, headers and body at most: larger headers get 431, a larger "
				"body 413" },
	[WK_SIDLE] = { .name = "session_idle", .kt = KT_DUR, .flags = KF_RESTART,
		       .off = OFF(cc_web_conf, session_idle_ms), .def = "12h", .min = 1000, .max = 30 * 86400000.0,
		       .help = "a login session unused this long ends (the next page asks to log in again; an open "
			       "live-update stream of it is closed within 5 s)" },
	[WK_SMAX] = { .name = "session_max", .kt = KT_DUR, .flags = KF_RESTART,
		      .off = OFF(cc_web_conf, session_max_ms), .def = "7d", .min = 60000, .max = 90 * 86400000.0,
		      .help = "a login session ends this long after the login, used or not" },
	[WK_URL] = { .name = "public_url", .kt = KT_STR, .off = OFF(cc_web_conf, public_url), .check = check_public_url,
		     .range = "http(s) URL",
		     .help = "the page's address as people reach it (e.g. https://kho.example.vn:8470/): e-mail and "
			     "Zalo messages link to the alarm there; unset = no link" },
};

const struct group g_web = GROUP("web", web_keys, "the HTTP listener: status page, /healthz, /metrics");
_Static_assert(ARRAY_SIZE(web_keys) == WK_N, "web_keys");

/* A file only its owner may read (users, TLS key), as password files. */
static void check_private(struct ctx *c, const char *file, const config_setting_t *s, const char *path)
{
	struct stat st;
	char *disp = path_join(c->dir, config_setting_get_string(s));
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		err_at(c, s, path, "cannot read %s: %s", disp, strerror(errno));
	else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		err_at(c, s, path, "%s is not a regular file", disp);
	else if (st.st_mode & 077)
		err_at(c, s, path, "%s is readable by others (chmod 600 it)", disp);
	if (fd >= 0)
		close(fd);
	free(disp);
}

void load_web(struct ctx *c, const config_setting_t *ws)
{
	struct cc_web_conf *w = xcalloc(1, sizeof(*w));
	struct seen sn[MAX_KEYS];

	c->cfg->web = w;
	w->line = src_line(ws);
	schema_apply(c, ws, ws, &g_web, w, "web", sn);
	if (!!sn[WK_CERT].s != !!sn[WK_KEY].s)
		err_at(c, sn[WK_CERT].s ? sn[WK_CERT].s : sn[WK_KEY].s, sn[WK_CERT].s ? "web.cert_file" : "web.key_file",
		       "cert_file and key_file go together (both for HTTPS, neither for HTTP)");
	if (ok(&sn[WK_CERT]))
		check_readable(c, w->cert_file, sn[WK_CERT].s, "web", "cert_file");
	if (ok(&sn[WK_KEY]))
		check_private(c, w->key_file, sn[WK_KEY].s, "web.key_file");
	if (ok(&sn[WK_USERS]))
		check_private(c, w->users_file, sn[WK_USERS].s, "web.users_file");
	if (ok(&sn[WK_PERIP]) && ok(&sn[WK_MAXCONN]) && w->per_ip_connections > w->max_connections)
		err_at(c, sn[WK_PERIP].s, "web.per_ip_connections", "must be at most max_connections (%d)",
		       w->max_connections);
}

void print_web(const struct cc_config *cfg, FILE *f)
{
	if (!cfg->web)
		return;
	fputs("\nweb = {\n", f);
	schema_print_keys(f, "  ", &g_web, cfg->web, 0);
	fputs("};\n", f);
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int config_web_same(const struct cc_config *a, const struct cc_config *b)
{
	const struct cc_web_conf *x = a->web, *y = b->web;

	if (!str_eq(a->timezone, b->timezone))
		return 0;
	if (!x || !y)
		return !x && !y;
	return str_eq(x->listen, y->listen) && str_eq(x->cert_file, y->cert_file) && str_eq(x->key_file, y->key_file) &&
	       str_eq(x->users_file, y->users_file) && x->public_status == y->public_status &&
	       x->max_connections == y->max_connections && x->per_ip_connections == y->per_ip_connections &&
	       x->timeout_ms == y->timeout_ms && x->max_request == y->max_request &&
	       x->session_idle_ms == y->session_idle_ms && x->session_max_ms == y->session_max_ms;
}

void free_web(struct cc_config *cfg)
{
	struct cc_web_conf *w = cfg->web;

	if (!w)
		return;
	free(w->listen);
	free(w->cert_file);
	free(w->key_file);
	free(w->users_file);
	free(w->public_url);
	free(w);
	cfg->web = NULL;
}
