/* login.c - logging in and out, the language switch and the compiled-in
 * assets.  The login form is CSRF-protected before any session exists by a
 * double-submit pair: a random token in an HttpOnly cookie (Path=/login)
 * and the same token in the form; a forged cross-site POST has neither. */
#include "web_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../i18n.h"
#include "../util.h"

#define PRE_COOKIE "cc_login"

static int hex64(const char *s)
{
	if (!s || strlen(s) != AUTH_TOKEN_HEX)
		return 0;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return 0;
	return 1;
}

/* The pre-session token: the cookie's when it has a sound one, else a new
 * one set as the cookie. */
static int pre_token(struct web_req *req, char *tok)
{
	const char *c = web_cookie(req, PRE_COOKIE);
	char hdr[200];

	if (hex64(c)) {
		strlcpy_cc(tok, c, AUTH_TOKEN_HEX + 1);
		return 0;
	}
	if (web_random_hex(tok, AUTH_TOKEN_HEX / 2) < 0)
		return -EIO;
	snprintf(hdr, sizeof(hdr), PRE_COOKIE "=%s; Path=/login; HttpOnly; SameSite=Strict%s", tok,
		 req->tls ? "; Secure" : "");
	web_header_add(req, "Set-Cookie", hdr);
	return 0;
}

static int login_render(struct web_req *req, int status, const char *error, const char *next)
{
	struct web_page p;
	char tok[AUTH_TOKEN_HEX + 1];
	int L = req->lang_id;

	if (pre_token(req, tok) < 0)
		return web_error(req, 500, "no randomness");
	if (web_page_begin(&p, req) < 0)
		return web_error(req, 500, "out of memory");
	fprintf(p.o, "<h1>%s</h1>", i18n_tr(L, "Log in"));
	if (error) {
		fputs("<p class=\"error\" role=\"alert\">", p.o);
		web_esc(p.o, error);
		fputs("</p>", p.o);
	}
	fprintf(p.o, "<form id=\"login\" method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" "
		     "value=\"%s\"><input type=\"hidden\" name=\"next\" value=\"", tok);
	web_esc(p.o, web_next_ok(next) ? next : "/");
	fprintf(p.o, "\"><label for=\"user\">%s</label><input id=\"user\" name=\"user\" autocomplete=\"username\" "
		     "required maxlength=\"64\" autocapitalize=\"none\">"
		     "<label for=\"password\">%s</label><input id=\"password\" name=\"password\" type=\"password\" "
		     "autocomplete=\"current-password\" required maxlength=\"1024\">"
		     "<p><button type=\"submit\">%s</button></p></form>",
		i18n_tr(L, "User name"), i18n_tr(L, "Password"), i18n_tr(L, "Log in"));
	return web_page_end(&p, status, i18n_tr(L, "Log in"));
}

int web_page_login(struct web_req *req)
{
	return login_render(req, 200, NULL, web_arg(req, "next"));
}

int web_action_login(struct web_req *req)
{
	char tok[AUTH_TOKEN_HEX + 2], user[AUTH_NAME_MAX + 2], pw[AUTH_PASSWORD_MAX + 2], next[520], hdr[300];
	struct auth_session s;
	int64_t retry = 0;
	int rc, L = req->lang_id;

	const char *why = web_origin_refusal(req);

	if (why) {
		web_refuse(req, WEB_REFUSE_ORIGIN, 403, why);
		return 0;
	}
	if (!web_token_eq(web_cookie(req, PRE_COOKIE), web_form(req, "csrf", tok, sizeof(tok)))) {
		web_refuse(req, WEB_REFUSE_CSRF, 403, "login without its CSRF token");
		return 0;
	}
	if (!web_form(req, "next", next, sizeof(next)) || !web_next_ok(next))
		strlcpy_cc(next, "/", sizeof(next));
	if (!web_form(req, "user", user, sizeof(user)) || !web_form(req, "password", pw, sizeof(pw)))
		return login_render(req, 400, i18n_tr(L, "Wrong user name or password"), next);
	rc = auth_login(web_auth(req), user, pw, req->client, time_now_ns() / 1000000, &s, &retry);
	explicit_bzero(pw, sizeof(pw));
	if (rc == -EAGAIN) {
		snprintf(hdr, sizeof(hdr), "%" PRId64, (retry + 999) / 1000);
		web_header_add(req, "Retry-After", hdr);
		web_refuse_count(req, WEB_REFUSE_LOGIN_LOCKED, "login locked after failed attempts");
		return login_render(req, 429, i18n_tr(L, "Too many failed logins: try again later"), next);
	}
	if (rc < 0)
		return login_render(req, 401, i18n_tr(L, "Wrong user name or password"), next);
	if (auth_cookie_header(&s, req->tls, hdr, sizeof(hdr)) < 0)
		return web_error(req, 500, "cookie too long");
	web_header_add(req, "Set-Cookie", hdr);
	return web_redirect_local(req, next);
}

int web_action_logout(struct web_req *req)
{
	char hdr[200];

	auth_logout(web_auth(req), web_cookie(req, AUTH_COOKIE_NAME));
	if (auth_cookie_header(NULL, req->tls, hdr, sizeof(hdr)) >= 0)
		web_header_add(req, "Set-Cookie", hdr);
	return web_redirect(req, "/login");
}

int web_action_lang(struct web_req *req)
{
	const char *l = web_arg(req, "l"), *next = web_arg(req, "next");
	char hdr[120];

	if (!l || (strcmp(l, "vi") != 0 && strcmp(l, "en") != 0))
		return web_error(req, 400, "l must be vi or en");
	snprintf(hdr, sizeof(hdr), "lang=%s; Path=/; Max-Age=31536000; SameSite=Strict%s", l,
		 req->tls ? "; Secure" : "");
	web_header_add(req, "Set-Cookie", hdr);
	return web_redirect_local(req, next);
}

int web_page_static(struct web_req *req)
{
	const char *inm = web_header(req, "If-None-Match");

	for (size_t i = 0; i < web_assets_n; i++) {
		const struct web_asset *a = &web_assets[i];
		if (strcmp(a->path, req->path) != 0)
			continue;
		web_header_add(req, "ETag", a->etag);
		web_header_add(req, "Cache-Control", "no-cache");
		if (inm && strstr(inm, a->etag))
			return web_reply(req, 304, NULL, "", 0);
		return web_reply(req, 200, a->type, (const char *)a->data, a->len);
	}
	return web_error(req, 404, "not found");
}
