/* message.c - the words of a notification (message.h).  The translated
 * pieces are whole phrases without printf formats (a word order that
 * differs is a phrase of its own); numbers, rooms and times are joined in. */
#include "message.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../daemon/i18n.h"
#include "../daemon/util.h"
#include "../util/hash.h"
#include "route.h"


/* TRANSLATORS: the words of alarm notifications (e-mail, Telegram, Zalo,
 * SMS): short and plain, as a text message to a storekeeper. */
const char *const message_words[] = {
	N_("since"), N_("limit"), N_("ALARM"), N_("CRITICAL"), N_("still not acknowledged"),
	N_("acknowledged by"), N_("back to normal"), N_("Reply OK"), N_("to acknowledge"),
	N_("What to do:"), N_("coldchaind test message from"), N_("Alarm ID:"),
	N_("Sent by coldchaind at"), N_("and more:"), N_("Daily summary"),
	N_("Acknowledge it on the page:"), N_("No active alarm has the id"), N_("Reply OK and the id from the alarm message."),
	NULL
};

static int lang_of(const char *lang)
{
	return lang && strcmp(lang, "en") == 0 ? I18N_EN : I18N_VI;
}

static const char *tr(const struct message_ctx *c, const char *s)
{
	return i18n_tr(lang_of(c->lang), s);
}

const char *message_word(const char *lang, const char *english)
{
	return i18n_tr(lang_of(lang), english);
}

enum msg_style message_style(const char *kind)
{
	if (strcmp(kind, "email") == 0)
		return MSG_EMAIL;
	if (strcmp(kind, "sms") == 0)
		return MSG_SMS;
	return MSG_CHAT;
}

void message_number(double v, const char *lang, char *dst, size_t size)
{
	char *dot;

	snprintf(dst, size, "%.1f", v);
	if (lang_of(lang) == I18N_VI && (dot = strchr(dst, '.')))
		*dot = ',';
}

/* Appends to dst (size) at *off, cut at a UTF-8 boundary. */
static void put(char *dst, size_t size, size_t *off, const char *s)
{
	size_t n = strlen(s), room = *off < size ? size - 1 - *off : 0;

	if (n > room) {
		n = room;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst + *off, s, n);
	*off += n;
	dst[*off] = '\0';
}

static void putf(char *dst, size_t size, size_t *off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void putf(char *dst, size_t size, size_t *off, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(dst, size, off, buf);
}

/* "%d min" translated, with n in place of %d. */
static void put_count(const struct message_ctx *c, const char *msgid, long n, char *dst, size_t size, size_t *off)
{
	const char *f = tr(c, msgid), *d = strstr(f, "%d");

	if (!d) {
		put(dst, size, off, f);
		return;
	}
	putf(dst, size, off, "%.*s%ld%s", (int)(d - f), f, n, d + 2);
}

static const struct i18n_rule_words *words_of(const char *rule)
{
	return i18n_rule(rule);
}

/* "Kho lạnh A: nhiệt độ cao 9,2 °C (giới hạn 5,0 °C)" */
static void put_what(const struct message_ctx *c, const struct route_event *ev, char *d, size_t size, size_t *off)
{
	const struct i18n_rule_words *w = words_of(ev->rule);
	char num[32];

	if (ev->room[0])
		putf(d, size, off, "%s %s: ", tr(c, "Cold store"), ev->room);
	put(d, size, off, w ? tr(c, w->what) : ev->message[0] ? ev->message : ev->rule);
	if (ev->has_value && w && w->unit[0]) {
		message_number(ev->value, c->lang, num, sizeof(num));
		putf(d, size, off, " %s %s", num, w->unit);
	}
	if (ev->has_limit && w && w->unit[0] && c->style != MSG_SMS) {
		message_number(ev->limit, c->lang, num, sizeof(num));
		putf(d, size, off, " (%s %s %s)", tr(c, "limit"), num, w->unit);
	}
}

/* " từ 14:05 (35 phút)" */
static void put_since(const struct message_ctx *c, const struct route_event *ev, char *d, size_t size, size_t *off)
{
	int64_t since = c->since_ns ? c->since_ns : ev->time_ns;
	int64_t mins = c->now_ns > since ? (c->now_ns - since) / 60000000000LL : 0;
	char hm[16];

	if (!since || time_fmt_local(since, hm, sizeof(hm), TIME_LOCAL_HM) < 0)
		return;
	putf(d, size, off, " %s %s", tr(c, "since"), hm);
	if (mins >= 1 && c->style != MSG_SMS) {
		put(d, size, off, " (");
		if (mins >= 120)
			put_count(c, "%d h", (long)(mins / 60), d, size, off);
		else
			put_count(c, "%d min", (long)mins, d, size, off);
		put(d, size, off, ")");
	}
}

/* "[CẢNH BÁO] " / "[NGHIÊM TRỌNG] ... vẫn chưa xác nhận" / "đã xác nhận bởi lan" */
static void put_head(const struct message_ctx *c, const struct route_event *ev, char *d, size_t size, size_t *off)
{
	enum route_class rc = route_classify(ev);

	if (rc == RC_HANDLED && strcmp(ev->event, "ack") == 0)
		putf(d, size, off, "[%s %s] ", tr(c, "acknowledged by"), ev->user[0] ? ev->user : "?");
	else if (rc == RC_HANDLED)
		putf(d, size, off, "[%s] ", tr(c, "back to normal"));
	else
		putf(d, size, off, "[%s] ", tr(c, ev->sev >= 2 ? "CRITICAL" : "ALARM"));
}

void message_render_line(const struct message_ctx *c, const struct route_event *ev, char *dst, size_t size)
{
	size_t off = 0;
	char hm[16];

	dst[0] = '\0';
	if (ev->time_ns && time_fmt_local(ev->time_ns, hm, sizeof(hm), TIME_LOCAL_HM) >= 0)
		putf(dst, size, &off, "%s ", hm);
	put_head(c, ev, dst, size, &off);
	put_what(c, ev, dst, size, &off);
}

static void put_reply(const struct message_ctx *c, char *d, size_t size, size_t *off)
{
	if (c->short_id)
		putf(d, size, off, "%s %s %s.", tr(c, "Reply OK"), c->short_id, tr(c, "to acknowledge"));
}

/* The alarm's row on the web page: BASE/alarms#alarm-ID, the id as
 * daemon/web's web_dom_id writes it (letters, digits, _ and - kept, any
 * other byte _). */
static void put_link(const struct message_ctx *c, const struct route_event *ev, char *d, size_t size, size_t *off)
{
	size_t n = strlen(c->link), k = 0;
	char id[160];

	while (n && c->link[n - 1] == '/')
		n--;
	for (const unsigned char *p = (const unsigned char *)ev->id; *p && k + 1 < sizeof(id); p++)
		id[k++] = isalnum(*p) || *p == '_' || *p == '-' ? (char)*p : '_';
	id[k] = '\0';
	putf(d, size, off, "%s %.*s/alarms#alarm-%s", tr(c, "Acknowledge it on the page:"), (int)n, c->link, id);
}

void message_render(const struct message_ctx *c, const struct route_event *ev, struct message *m)
{
	size_t off = 0, so = 0;
	const char *nl = c->style == MSG_SMS ? " " : "\n";

	m->text[0] = m->subject[0] = '\0';
	put_head(c, ev, m->text, sizeof(m->text), &off);
	put_what(c, ev, m->text, sizeof(m->text), &off);
	if (route_classify(ev) == RC_STEP && strcmp(ev->state, "acked") != 0)
		putf(m->text, sizeof(m->text), &off, ", %s", tr(c, "still not acknowledged"));
	put_since(c, ev, m->text, sizeof(m->text), &off);
	put(m->text, sizeof(m->text), &off, ".");
	if (c->advice && c->advice[0] && route_classify(ev) != RC_HANDLED)
		putf(m->text, sizeof(m->text), &off, "%s%s %s.", nl, tr(c, "What to do:"), c->advice);
	if (c->short_id && route_classify(ev) != RC_HANDLED) {
		put(m->text, sizeof(m->text), &off, nl);
		put_reply(c, m->text, sizeof(m->text), &off);
	} else if (c->link && c->link[0] && route_classify(ev) != RC_HANDLED) {
		put(m->text, sizeof(m->text), &off, nl);
		put_link(c, ev, m->text, sizeof(m->text), &off);
	}
	if (c->style == MSG_EMAIL) {
		putf(m->text, sizeof(m->text), &off, "\n\n-- \n%s %s. %s %s", tr(c, "Sent by coldchaind at"),
		     c->site ? c->site : "?", tr(c, "Alarm ID:"), ev->id);
		putf(m->subject, sizeof(m->subject), &so, "[%s] ", c->site ? c->site : "coldchaind");
		put_head(c, ev, m->subject, sizeof(m->subject), &so);
		put_what(c, ev, m->subject, sizeof(m->subject), &so);
	}
}

void message_render_test(const struct message_ctx *c, struct message *m)
{
	size_t off = 0, so = 0;

	m->text[0] = m->subject[0] = '\0';
	putf(m->text, sizeof(m->text), &off, "%s %s.", tr(c, "coldchaind test message from"), c->site ? c->site : "?");
	if (c->style == MSG_EMAIL)
		put(m->subject, sizeof(m->subject), &so, m->text);
}

void message_render_unknown_id(const struct message_ctx *c, const char *id, struct message *m)
{
	size_t off = 0;

	m->text[0] = m->subject[0] = '\0';
	putf(m->text, sizeof(m->text), &off, "%s %s. %s", tr(c, "No active alarm has the id"), id && *id ? id : "?",
	     tr(c, "Reply OK and the id from the alarm message."));
}

void message_short_id(const char *alarm_id, int len, char out[8])
{
	/* 32-bit FNV-1a: people reply with these ids and held messages carry
	 * them across restarts, so the value must never change. */
	uint32_t h = fnv1a32_str(alarm_id);
	char hex[9];

	snprintf(hex, sizeof(hex), "%08x", h);
	if (len < 4)
		len = 4;
	if (len > 6)
		len = 6;
	memcpy(out, hex, (size_t)len);
	out[len] = '\0';
}

void message_short_id_unique(const char *alarm_id, const char *const *active, size_t n, char out[8])
{
	for (int len = 4; len <= 6; len++) {
		int clash = 0;
		char other[8];

		message_short_id(alarm_id, len, out);
		for (size_t i = 0; i < n && !clash; i++) {
			if (strcmp(active[i], alarm_id) == 0)
				continue;
			message_short_id(active[i], len, other);
			clash = strcmp(other, out) == 0;
		}
		if (!clash)
			return;
	}
}
