/* smtp.c - the e-mail transport (issue 16): one RFC 5322 message per
 * recipient through libcurl's SMTP, STARTTLS required on smtp:// (implicit
 * TLS on smtps://), the server verified unless insecure, AUTH from the
 * password file; the server's reply decides retry, auth or refusal. */
#include "smtp.h"

#include <curl/curl.h>
#include <errno.h>
#include <nettle/base64.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../daemon/channels_conf.h"
#include "../daemon/log.h"
#include "../daemon/util.h"
#include "transport.h"

#define QP_LINE_MAX 76
#define CONNECT_TIMEOUT_MAX_MS 15000

/* A growing byte buffer for the message. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static int has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

int smtp_address_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (n == 0 || n > SMTP_ADDR_MAX || !at || at == s || !at[1] || strchr(at + 1, '@'))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("<>,\"\\()[];:", *p))
			return 0;
	return 1;
}

int smtp_from_parse(const char *from, char *addr, size_t na, char *domain, size_t nd)
{
	const char *lt = strrchr(from, '<'), *a = from;
	size_t n;

	if (has_crlf(from))
		return -EINVAL;
	if (lt) {
		const char *gt = strchr(lt, '>');

		if (!gt || gt[1])
			return -EINVAL;
		a = lt + 1;
		n = (size_t)(gt - a);
	} else {
		n = strlen(from);
	}
	if (n == 0 || n >= na || n > SMTP_ADDR_MAX)
		return -EINVAL;
	memcpy(addr, a, n);
	addr[n] = '\0';
	if (!smtp_address_ok(addr) || strlen(strchr(addr, '@') + 1) >= nd)
		return -EINVAL;
	strcpy(domain, strchr(addr, '@') + 1);
	return 0;
}

static int needs_encoding(const char *s)
{
	if (strstr(s, "=?"))
		return 1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return 1;
	return 0;
}

/*
 * RFC 2047 'B' encoded-words of UTF-8 s after col characters of the header
 * line, each line within 76 (the first word shorter by the header's name;
 * later ones 45 bytes of text: " =?UTF-8?B?" + 60 of base64 + "?="), never
 * splitting a character, folded onto continuation lines.  Returns the
 * column where the last line ends.
 */
static size_t sb_encoded_words(struct sbuf *b, const char *s, size_t col)
{
	size_t n = strlen(s), i = 0, room = col < 52 ? 3 * ((64 - col) / 4) : 3;

	while (i < n) {
		size_t k = n - i > room ? room : n - i;
		char enc[BASE64_ENCODE_RAW_LENGTH(45) + 1];

		while (i + k < n && k > 1 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--; /* s[i+k] continues a character: cut before it */
		base64_encode_raw(enc, k, (const uint8_t *)s + i);
		enc[BASE64_ENCODE_RAW_LENGTH(k)] = '\0';
		if (i > 0) {
			sb_str(b, "\r\n ");
			col = 1;
		}
		sb_str(b, "=?UTF-8?B?");
		sb_str(b, enc);
		sb_str(b, "?=");
		col += 12 + BASE64_ENCODE_RAW_LENGTH(k);
		i += k;
		room = 45;
	}
	return col;
}

/* An unstructured header: as-is when short printable ASCII, else encoded. */
static void sb_header_text(struct sbuf *b, const char *name, const char *v)
{
	sb_str(b, name);
	sb_str(b, ": ");
	if (needs_encoding(v) || strlen(v) > 70)
		sb_encoded_words(b, v, strlen(name) + 2);
	else
		sb_str(b, v);
	sb_str(b, "\r\n");
}

static void sb_from(struct sbuf *b, const char *from)
{
	const char *lt = strrchr(from, '<');
	char name[512];
	size_t n, col;

	if (!lt) {
		sb_str(b, "From: ");
		sb_str(b, from);
		sb_str(b, "\r\n");
		return;
	}
	n = (size_t)(lt - from);
	while (n > 0 && from[n - 1] == ' ')
		n--;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, from, n);
	name[n] = '\0';
	sb_str(b, "From: ");
	if (n > 0 && (needs_encoding(name) || strpbrk(name, "\"(),.:;<>@[\\]"))) {
		col = sb_encoded_words(b, name, 6);
	} else {
		sb_str(b, name);
		col = 6 + n;
	}
	if (n > 0)
		sb_str(b, col + 1 + strlen(lt) > 76 ? "\r\n " : " ");
	sb_str(b, lt);
	sb_str(b, "\r\n");
}

/* Quoted-printable (RFC 2045 6.7) of one byte c at a column; soft breaks
 * keep every line within QP_LINE_MAX. */
static void qp_put(struct sbuf *b, size_t *col, unsigned char c, int last_on_line)
{
	char tok[4];
	size_t w;

	if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last_on_line)) {
		tok[0] = (char)c;
		w = 1;
	} else {
		snprintf(tok, sizeof(tok), "=%02X", c);
		w = 3;
	}
	if (*col + w > QP_LINE_MAX - 1) {
		sb_str(b, "=\r\n");
		*col = 0;
	}
	sb_add(b, tok, w);
	*col += w;
}

/* The body in quoted-printable, LF or CRLF in the text becoming CRLF. */
static void sb_qp_body(struct sbuf *b, const char *text)
{
	size_t col = 0;

	for (const char *p = text; *p; p++) {
		int eol_next;

		if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
			p += *p == '\r';
			sb_str(b, "\r\n");
			col = 0;
			continue;
		}
		eol_next = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
		qp_put(b, &col, (unsigned char)*p, eol_next);
	}
	if (b->len < 2 || memcmp(b->p + b->len - 2, "\r\n", 2) != 0)
		sb_str(b, "\r\n");
}

static void sb_date(struct sbuf *b, int64_t date_s)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)date_s;
	struct tm tm;
	char d[64];

	gmtime_r(&t, &tm);
	snprintf(d, sizeof(d), "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
		 mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	sb_str(b, d);
}

static int id_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      strchr("-_.:/", *s)))
			return 0;
	return 1;
}

int smtp_message_build(const char *from, const char *to, const struct transport_msg *m, int64_t date_s,
		       const char *msgid, char **out, size_t *len)
{
	struct sbuf b = {0};
	const char *subject = m->subject ? m->subject : "coldchaind";
	const char *text = m->text ? m->text : "";

	if (has_crlf(from) || has_crlf(subject) || has_crlf(msgid) || !smtp_address_ok(to))
		return -EINVAL;
	if (strlen(subject) > SMTP_SUBJECT_MAX || strlen(text) > SMTP_TEXT_MAX)
		return -E2BIG;
	sb_date(&b, date_s);
	sb_from(&b, from);
	sb_str(&b, "To: ");
	sb_str(&b, to);
	sb_str(&b, "\r\n");
	sb_header_text(&b, "Subject", subject);
	sb_str(&b, "Message-ID: <");
	sb_str(&b, msgid);
	sb_str(&b, ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n"
		   "Auto-Submitted: auto-generated\r\n"); /* RFC 3834: no auto-replies */
	if (id_ok(m->alarm_id)) {
		sb_str(&b, "X-Coldchaind-Alarm: ");
		sb_str(&b, m->alarm_id);
		sb_str(&b, "\r\n");
	}
	if (m->critical)
		sb_str(&b, "Importance: high\r\nX-Priority: 1\r\n");
	sb_str(&b, "\r\n");
	sb_qp_body(&b, text);
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ------------------------------------------------------------ transport */

struct smtp {
	char *name, *url, *from, *user, *password, *ca_file;
	char from_addr[SMTP_ADDR_MAX + 3], domain[SMTP_ADDR_MAX + 1];
	long use_ssl;
	int insecure;
	int64_t timeout_ms;
	CURL *easy;
	CURLM *multi;
	char curl_err[CURL_ERROR_SIZE];
	char reply[200]; /* the server's last error reply */
	const char *up;
	size_t up_len, up_off;
	uint64_t seq;
	atomic_int stopping;
	pthread_mutex_t mu; /* guards unhealthy: healthy() runs on another thread */
	char unhealthy[200]; /* why the last send failed for the server's sake; "" after a success */
};

static int host_is_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int lo = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		lo = !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "[::1]");
	curl_free(host);
	curl_url_cleanup(u);
	return lo;
}

/*
 * The TLS policy (README "E-mail"): smtps:// is TLS from the start;
 * smtp:// must upgrade with STARTTLS or the mail is not sent, except to a
 * relay on this machine (loopback) with insecure = true, where STARTTLS is
 * used when offered and plain SMTP otherwise.  -EINVAL for another scheme.
 */
static int smtp_tls_policy(struct smtp *s)
{
	if (!strncmp(s->url, "smtps://", 8)) {
		s->use_ssl = CURLUSESSL_ALL;
		return 0;
	}
	if (strncmp(s->url, "smtp://", 7))
		return -EINVAL;
	s->use_ssl = s->insecure && host_is_loopback(s->url) ? CURLUSESSL_TRY : CURLUSESSL_ALL;
	return 0;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp *s = arg;
	size_t n = size * nitems, left = s->up_len - s->up_off;

	if (n > left)
		n = left;
	memcpy(buf, s->up + s->up_off, n);
	s->up_off += n;
	return n;
}

/* SMTP replies reach the header callback: the last 4xx/5xx one is kept
 * (printable), not the "221 Bye" of the QUIT that follows a failure. */
static size_t on_reply(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp *s = arg;
	size_t n = size * nitems, k = 0;

	if (n < 3 || (buf[0] != '4' && buf[0] != '5'))
		return n;
	for (size_t i = 0; i < n && k + 1 < sizeof(s->reply); i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r' || c == '\n')
			break;
		s->reply[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (k > 0)
		s->reply[k] = '\0';
	return n;
}

/* Aborting from inside the transfer (not by removing the handle, where
 * libcurl 7.88's SMTP would finish the DATA and block for the reply). */
static int on_progress(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	struct smtp *s = arg;

	(void)dlt, (void)dln, (void)ult, (void)uln;
	return atomic_load(&s->stopping) ? 1 : 0;
}

static void smtp_setup_handle(struct smtp *s)
{
	CURL *e = s->easy;

	curl_easy_setopt(e, CURLOPT_URL, s->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->curl_err);
	curl_easy_setopt(e, CURLOPT_USE_SSL, s->use_ssl);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, s->from_addr);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_reply);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, s);
	if (s->user) {
		curl_easy_setopt(e, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, s->password ? s->password : "");
	}
	if (s->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->insecure ? 0L : 2L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(s->timeout_ms < CONNECT_TIMEOUT_MAX_MS ? s->timeout_ms : CONNECT_TIMEOUT_MAX_MS));
}

static void smtp_free(void *t)
{
	struct smtp *s = t;

	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	if (s->password)
		explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	free(s->name);
	free(s->url);
	free(s->from);
	free(s->user);
	free(s->ca_file);
	free(s);
}

void *transport_smtp_new(const struct cc_email_conf *c, const char *state_dir)
{
	struct smtp *s = xcalloc(1, sizeof(*s));
	char addr[SMTP_ADDR_MAX + 1];

	(void)state_dir;
	s->name = xstrdup(c->c.name ? c->c.name : "email");
	s->url = xstrdup(c->url ? c->url : "");
	s->insecure = c->insecure;
	s->timeout_ms = c->c.timeout_ms > 0 ? c->c.timeout_ms : 30000;
	if (!c->from || smtp_from_parse(c->from, addr, sizeof(addr), s->domain, sizeof(s->domain)) < 0 ||
	    smtp_tls_policy(s) < 0 || (c->user && has_crlf(c->user))) {
		smtp_free(s);
		errno = EINVAL;
		return NULL;
	}
	snprintf(s->from_addr, sizeof(s->from_addr), "<%s>", addr);
	s->from = xstrdup(c->from);
	s->user = c->user ? xstrdup(c->user) : NULL;
	s->password = c->password ? xstrdup(c->password) : NULL;
	s->ca_file = c->ca_file ? xstrdup(c->ca_file) : NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->easy = curl_easy_init();
	s->multi = curl_multi_init();
	if (!s->easy || !s->multi) {
		smtp_free(s);
		errno = ENOMEM;
		return NULL;
	}
	smtp_setup_handle(s);
	if (s->insecure)
		log_warn("output %s: TLS certificate verification is DISABLED (insecure = true)%s: anyone on the "
			 "path can read the mail and the password", s->name,
			 s->use_ssl == CURLUSESSL_TRY ? ", and plain SMTP is allowed to this loopback relay" : "");
	return s;
}

/* One transfer through the multi handle, so that wakeup() can cut it short. */
static CURLcode smtp_perform(struct smtp *s)
{
	CURLcode res = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left, spins = 0;

	if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	for (;;) {
		if (curl_multi_perform(s->multi, &running) != CURLM_OK) {
			res = CURLE_FAILED_INIT;
			break;
		}
		if (!running)
			break;
		/* on_progress aborts at the next perform; this is a backstop */
		if (atomic_load(&s->stopping) && ++spins > 100) {
			res = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		curl_multi_poll(s->multi, NULL, 0, atomic_load(&s->stopping) ? 10 : 1000, NULL);
	}
	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && !running)
			res = msg->data.result;
	curl_multi_remove_handle(s->multi, s->easy);
	return res;
}

/* r->error, truncated where it must be (vsnprintf: no truncation warning). */
static void err_fmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err_fmt(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

static int is_tls_error(CURLcode res)
{
	return res == CURLE_PEER_FAILED_VERIFICATION || res == CURLE_SSL_CONNECT_ERROR ||
	       res == CURLE_USE_SSL_FAILED || res == CURLE_SSL_CACERT_BADFILE || res == CURLE_SSL_CERTPROBLEM;
}

/* 4xx and connection errors: retry; 530/534/535: auth; 550/551/553: this
 * address will never work; anything else: retry. */
static void smtp_result(struct smtp *s, CURLcode res, struct transport_result *r)
{
	long code = 0;
	const char *why = s->curl_err[0] ? s->curl_err : curl_easy_strerror(res);

	if (res == CURLE_OK) {
		r->status = TR_OK;
		return;
	}
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_LOGIN_DENIED || code == 530 || code == 534 || code == 535)
		r->status = TR_AUTH;
	else if (code == 550 || code == 551 || code == 553)
		r->status = TR_REFUSED;
	else
		r->status = TR_RETRY;
	if (res == CURLE_ABORTED_BY_CALLBACK && atomic_load(&s->stopping))
		err_fmt(r->error, sizeof(r->error), "abandoned at shutdown");
	else if (is_tls_error(res))
		err_fmt(r->error, sizeof(r->error), "TLS: %s", res == CURLE_USE_SSL_FAILED ?
			 "the server offers no STARTTLS and TLS is required" : why);
	else if (code >= 400)
		err_fmt(r->error, sizeof(r->error), "server said \"%s\" (%s)", s->reply, why);
	else
		err_fmt(r->error, sizeof(r->error), "%s", why);
}

static void smtp_msgid(struct smtp *s, char *buf, size_t n)
{
	uint64_t rnd = 0;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)time_mono_ms() * 0x9e3779b97f4a7c15ULL;
	snprintf(buf, n, "%lld.%llu.%016llx@%s", (long long)time_now_ns(), (unsigned long long)++s->seq,
		 (unsigned long long)rnd, s->domain);
}

static void smtp_send(void *t, const char *address, const struct transport_msg *m, struct transport_result *r)
{
	struct smtp *s = t;
	struct curl_slist *rcpt = NULL;
	char to[SMTP_ADDR_MAX + 3], msgid[SMTP_ADDR_MAX + 80], *msg = NULL;
	size_t len = 0;
	int rc;

	if (!address || !smtp_address_ok(address)) {
		r->status = TR_REFUSED;
		snprintf(r->error, sizeof(r->error), "recipient address refused: not one bare address "
			 "(a space, CR/LF, bracket or comma, or no single '@')");
		return;
	}
	smtp_msgid(s, msgid, sizeof(msgid));
	rc = smtp_message_build(s->from, address, m, time_now_ns() / 1000000000, msgid, &msg, &len);
	if (rc < 0) {
		r->status = TR_REFUSED;
		snprintf(r->error, sizeof(r->error), rc == -E2BIG ? "message refused: subject or text too long"
			 : "message refused: the subject holds CR or LF");
		return;
	}
	snprintf(to, sizeof(to), "<%s>", address);
	rcpt = curl_slist_append(NULL, to);
	s->up = msg;
	s->up_len = len;
	s->up_off = 0;
	s->curl_err[0] = '\0';
	s->reply[0] = '\0';
	curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	smtp_result(s, rcpt ? smtp_perform(s) : CURLE_OUT_OF_MEMORY, r);
	curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	free(msg);
	s->up = NULL;
	if (r->status != TR_REFUSED) { /* a refusal is the address's, not the server's */
		pthread_mutex_lock(&s->mu);
		err_fmt(s->unhealthy, sizeof(s->unhealthy), "%s", r->status == TR_OK ? "" : r->error);
		pthread_mutex_unlock(&s->mu);
	}
}

/* Unhealthy while the last send that reached for the server failed (it
 * could not connect, TLS or AUTH failed, the server said 4xx). */
static int smtp_healthy(void *t, char *why, size_t n)
{
	struct smtp *s = t;
	int ok;

	pthread_mutex_lock(&s->mu);
	ok = s->unhealthy[0] == '\0';
	if (!ok)
		err_fmt(why, n, "last mail not sent: %s", s->unhealthy);
	pthread_mutex_unlock(&s->mu);
	return ok;
}

static void smtp_wakeup(void *t)
{
	struct smtp *s = t;

	atomic_store(&s->stopping, 1);
	curl_multi_wakeup(s->multi);
}

const struct transport_ops transport_smtp_ops = {
	.kind = "email",
	.send = smtp_send,
	.healthy = smtp_healthy,
	.wakeup = smtp_wakeup,
	.free = smtp_free,
};
