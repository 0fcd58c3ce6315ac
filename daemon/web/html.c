/* html.c - the shell every page shares (the markup contract in the README's
 * "Web page"): doctype and language, header with the site, navigation,
 * language switch and user, the assets, <main id="main">; and the small
 * writers pages use (escaping, numbers in the page's language, times in the
 * site's zone). */
#include "web_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/svg_trend.h"
#include "../i18n.h"
#include "../util.h"

void web_esc(FILE *o, const char *s)
{
	svg_esc(o, s);
}

void web_url_seg(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-_.~", c))
			fputc(c, o);
		else
			fprintf(o, "%%%02X", c);
	}
}

void web_num(FILE *o, int lang, double v, int decimals, const char *unit)
{
	char buf[64];

	if (!isfinite(v)) {
		fputs("–", o);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (lang == I18N_VI)
		for (char *q = buf; *q; q++)
			if (*q == '.')
				*q = ',';
	fputs(buf, o);
	if (unit) {
		fputs(" ", o);
		web_esc(o, unit);
	}
}

void web_time(FILE *o, int64_t ns)
{
	char iso[64], shown[64];

	if (time_fmt_local(ns, iso, sizeof(iso), TIME_LOCAL_ISO) < 0 ||
	    time_fmt_local(ns, shown, sizeof(shown), TIME_LOCAL_SHORT) < 0) {
		fputs("–", o);
		return;
	}
	fprintf(o, "<time datetime=\"%s\">%s</time>", iso, shown);
}

void web_time_iso(FILE *o, const char *iso)
{
	int64_t ns;

	if (iso && *iso && time_parse_iso8601(iso, strlen(iso), &ns) == 0)
		web_time(o, ns);
	else
		web_esc(o, iso && *iso ? iso : "–");
}

void web_url_path(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-_.~/", c))
			fputc(c, o);
		else
			fprintf(o, "%%%02X", c);
	}
}

int web_redirect_local(struct web_req *req, const char *path)
{
	char *loc = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&loc, &len);
	int rc;

	if (!o)
		return web_error(req, 500, "out of memory");
	web_url_path(o, web_next_ok(path) ? path : "/");
	if (fclose(o) != 0) {
		free(loc);
		return web_error(req, 500, "out of memory");
	}
	rc = web_redirect(req, loc);
	free(loc);
	return rc;
}

int web_next_ok(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\')
		return 0;
	for (const char *q = next; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f || *q == '\\')
			return 0;
	return strlen(next) < 512;
}

void web_dom_id(const char *name, char *buf, size_t n)
{
	size_t i = 0;

	if (!n)
		return;
	for (; name && name[i] && i + 1 < n; i++) {
		unsigned char c = (unsigned char)name[i];
		buf[i] = isalnum(c) || c == '_' || c == '-' ? (char)c : '_';
	}
	buf[i] = '\0';
}

int web_page_begin(struct web_page *p, struct web_req *req)
{
	p->req = req;
	p->buf = NULL;
	p->len = 0;
	p->o = open_memstream(&p->buf, &p->len);
	return p->o ? 0 : -ENOMEM;
}

static int has_asset(const char *path)
{
	for (size_t i = 0; i < web_assets_n; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return 1;
	return 0;
}

static void page_header(FILE *o, struct web_req *req, const char *title)
{
	int L = req->lang_id;
	const char *site = web_deps(req)->site;

	fprintf(o, "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>", req->lang);
	web_esc(o, title);
	fputs(" · ", o);
	web_esc(o, site);
	fputs("</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
	      "<script src=\"/static/app.js\" defer></script>", o);
	if (has_asset("/static/live.js"))
		fputs("<script src=\"/static/live.js\" defer></script>", o);
	fputs("</head><body><header><a class=\"site\" href=\"/\">", o);
	web_esc(o, site);
	fprintf(o, "</a><nav aria-label=\"%s\"><a href=\"/\">%s</a> <a href=\"/alarms\">%s</a></nav>",
		i18n_tr(L, "Cold store"), i18n_tr(L, "Overview"), i18n_tr(L, "Alarms"));
	fprintf(o, "<div class=\"lang\" role=\"group\" aria-label=\"%s\">", i18n_tr(L, "Language"));
	fputs("<a lang=\"vi\" hreflang=\"vi\" href=\"/lang?l=vi&amp;next=", o);
	web_url_path(o, req->path);
	fputs("\">Tiếng Việt</a> <a lang=\"en\" hreflang=\"en\" href=\"/lang?l=en&amp;next=", o);
	web_url_path(o, req->path);
	fputs("\">English</a></div>", o);
	if (req->has_session) {
		fputs("<div class=\"who\"><span class=\"user\">", o);
		web_esc(o, req->sess.user);
		fprintf(o, " (%s)</span><form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" "
			   "value=\"%s\"><button class=\"link\" type=\"submit\">%s</button></form></div>",
			req->sess.role == AUTH_ROLE_OPERATOR ? i18n_tr(L, "operator") : i18n_tr(L, "viewer"), req->sess.csrf, i18n_tr(L, "Log out"));
	} else if (strcmp(req->path, "/login") != 0) {
		fprintf(o, "<div class=\"who\"><a href=\"/login\">%s</a></div>", i18n_tr(L, "Log in"));
	}
	fprintf(o, "</header><p id=\"live-status\" role=\"status\" hidden>%s</p><main id=\"main\">",
		i18n_tr(L, "Disconnected: the page is not updating"));
}

int web_page_end(struct web_page *p, int status, const char *title)
{
	struct web_req *req = p->req;
	const char *frag = web_header(req, "X-Fragment");
	char *out = NULL;
	size_t len = 0;
	FILE *o;
	int rc;

	if (fclose(p->o) != 0) {
		free(p->buf);
		return web_error(req, 500, "out of memory");
	}
	if (frag && strcmp(frag, "main") == 0) {
		web_header_add(req, "Vary", "X-Fragment, Cookie, Accept-Language");
		rc = web_reply(req, status, "text/html; charset=utf-8", p->buf, p->len);
		free(p->buf);
		return rc;
	}
	o = open_memstream(&out, &len);
	if (!o) {
		free(p->buf);
		return web_error(req, 500, "out of memory");
	}
	page_header(o, req, title);
	fwrite(p->buf, 1, p->len, o);
	fputs("</main></body></html>\n", o);
	free(p->buf);
	if (fclose(o) != 0) {
		free(out);
		return web_error(req, 500, "out of memory");
	}
	web_header_add(req, "Vary", "X-Fragment, Cookie, Accept-Language");
	rc = web_reply(req, status, "text/html; charset=utf-8", out, len);
	free(out);
	return rc;
}

/* The title of an error page by status. */
static const char *error_title(int status)
{
	switch (status) {
	case 400: return N_("Bad request");
	case 401: return N_("Login required");
	case 403: return N_("Not allowed");
	case 404: return N_("Not found");
	case 405: return N_("Not possible here");
	case 409: return N_("Nothing to do");
	case 413: case 431: return N_("Request too large");
	case 429: return N_("Too many tries: wait a moment");
	case 502: case 503: case 504: return N_("Not available now: try again shortly");
	default: return N_("Internal error");
	}
}

int web_error_page(struct web_req *req, int status, const char *msg)
{
	int L = req->lang_id;
	const char *title = i18n_tr(L, error_title(status)), *site = web_deps(req)->site;
	char *out = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&out, &len);
	int rc;

	if (!o)
		return web_reply_text(req, status, "error\n");
	fprintf(o, "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
		   "content=\"width=device-width, initial-scale=1\"><title>%d ",
		req->lang ? req->lang : "vi", status);
	web_esc(o, title);
	fputs(" · ", o);
	web_esc(o, site);
	fprintf(o, "</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><header>"
		   "<a class=\"site\" href=\"/\">");
	web_esc(o, site);
	fprintf(o, "</a></header><main id=\"main\" class=\"error-page\"><h1>%d · ", status);
	web_esc(o, title);
	fputs("</h1><p class=\"error\" role=\"alert\">", o);
	web_esc(o, i18n_tr(L, msg));
	fprintf(o, "</p><p><a class=\"back\" href=\"%s\">%s</a></p></main></body></html>\n",
		status == 401 ? "/login" : "/", status == 401 ? i18n_tr(L, "Log in") : i18n_tr(L, "Back to the overview"));
	if (fclose(o) != 0) {
		free(out);
		return web_reply_text(req, status, "error\n");
	}
	rc = web_reply(req, status, "text/html; charset=utf-8", out, len);
	free(out);
	return rc;
}
