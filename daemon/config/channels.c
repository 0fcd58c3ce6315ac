/* channels.c - the channels that reach people (issue 16): the outputs
 * outputs.email, outputs.telegram, outputs.zalo, outputs.sms, the top-level
 * lists recipients and routes, their cross-checks (a route's recipients and
 * channels exist, every recipient of a route is reachable on at least one of
 * its channels), printer and destructor.  Loaded after the other outputs, so
 * every output name is known. */
#include "config_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- checks of single values ------------------------------------------- */

static const char *check_smtp_url(const char *s)
{
	const char *host;

	if (strncmp(s, "smtp://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "smtps://", 8) == 0)
		host = s + 8;
	else
		return "must start with smtp:// (STARTTLS) or smtps:// (TLS)";
	if (*host == '\0' || *host == '/' || *host == ':')
		return "has no host";
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return "must not contain spaces or control characters";
	return NULL;
}

static const char *check_api_url(const char *s)
{
	return check_http_url(s, 0);
}

static const char *no_ctl(const char *s)
{
	for (const char *p = s; *p; p++)
		if (iscntrl((unsigned char)*p))
			return "must not contain control characters (line breaks)";
	return NULL;
}

/* One address: local@domain, no spaces, no angle brackets. */
static const char *check_email(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return "is not an e-mail address (local@domain)";
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p) || strchr("<>,;\"", *p))
			return "is not a plain e-mail address (no spaces, <>, commas or quotes)";
	return NULL;
}

/* "From": an address, optionally "Name <address>". */
static const char *check_from(const char *s)
{
	const char *lt = strchr(s, '<'), *w = no_ctl(s);

	if (w)
		return w;
	if (!lt)
		return check_email(s);
	if (!strchr(lt, '>') || strchr(lt, '>')[1] != '\0' || !strchr(lt, '@'))
		return "is not \"Name <local@domain>\" or local@domain";
	return NULL;
}

/* Telegram chat id: an integer (negative for groups) or @channelname. */
static const char *check_tg_chat(const char *s)
{
	const char *p = s;

	if (*p == '@') {
		for (p++; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_')
				return "is not a chat id (an integer, negative for a group) or @channel";
		return p - s >= 2 ? NULL : "is not a chat id (an integer, negative for a group) or @channel";
	}
	if (*p == '-')
		p++;
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 20)
		return "is not a chat id (an integer, negative for a group) or @channel";
	return NULL;
}

/* Zalo user id (of the Official Account's follower): digits. */
static const char *check_zalo_id(const char *s)
{
	if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 32)
		return "is not a Zalo user id (digits: the follower's id for the Official Account)";
	return NULL;
}

/* E.164: '+', a non-zero digit, 7 to 15 digits in all. */
const char *check_e164(const char *s)
{
	size_t n = strlen(s);

	if (s[0] != '+' || n < 8 || n > 16 || s[1] < '1' || s[1] > '9' || strspn(s + 1, "0123456789") != n - 1)
		return "is not an E.164 number (+ then 7 to 15 digits, e.g. +84912345678)";
	return NULL;
}

static int parse_hhmm(const char *s, int *min)
{
	int h, m, n = -1;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5 || h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*min = h * 60 + m;
	return 0;
}

static const char *check_hhmm(const char *s)
{
	int m;

	return strlen(s) == 5 && parse_hhmm(s, &m) == 0 ? NULL : "is not a local time HH:MM (00:00..23:59)";
}

static const char *check_quiet(const char *s)
{
	int a, b;

	if (strlen(s) != 11 || s[5] != '-' || parse_hhmm(s, &a) < 0 || parse_hhmm(s + 6, &b) < 0)
		return "is not HH:MM-HH:MM in the site's time zone (e.g. \"21:00-06:00\")";
	if (a == b)
		return "is empty (start and end are the same time)";
	return NULL;
}

static const char *check_device(const char *s)
{
	return s[0] == '/' && !no_ctl(s) ? NULL : "must be an absolute device path (/dev/ttyUSB2, /dev/serial/by-id/...)";
}

/* ---- tables ------------------------------------------------------------- */

#define NAME_KEY(st, pfx) \
	{ .name = "name", .kt = KT_NAME, .flags = KF_DYN, .off = OFF(st, c.name), .def = pfx "-N (N = position)", \
	  .help = "output name, unique among outputs (routes name it in via)" }
#define RATE_KEY(st, d, h) \
	{ .name = "rate_per_min", .kt = KT_INT, .off = OFF(st, c.rate_per_min), .def = d, .min = 1, .max = 600, \
	  .help = "messages a minute at most (a token bucket; a flood waits in the journal): " h }
#define TIMEOUT_KEY(st) \
	{ .name = "timeout", .kt = KT_DUR, .off = OFF(st, c.timeout_ms), .def = "30s", .min = 1000, .max = 300000, \
	  .help = "one send (and one poll for replies) at most" }
#define BACKOFF_KEY(st) \
	{ .name = "backoff_max", .kt = KT_DUR, .off = OFF(st, c.backoff_max_ms), .def = "300s", .min = 1000, \
	  .max = 86400000, .help = "cap on the retry backoff while the channel fails (or the peer's Retry-After)" }
#define START_KEY(st) \
	{ .name = "start", .kt = KT_ENUM, .off = OFF(st, c.start_oldest), .def = "end", .enums = start_names, \
	  .store = ES_INT, .help = "a new channel gets events journaled from now on (end) or every event the " \
				   "journal still holds (oldest)" }
#define CA_KEY(st) \
	{ .name = "ca_file", .kt = KT_PATH, .off = OFF(st, ca_file), \
	  .help = "CA certificate(s) for TLS (private CA); the system's when unset" }
#define INSECURE_KEY(st) \
	{ .name = "insecure", .kt = KT_BOOL, .off = OFF(st, insecure), .def = "false", \
	  .help = "skip TLS certificate verification (logged loudly)" }

enum { EM_NAME, EM_URL, EM_FROM, EM_USER, EM_PASSWORD_FILE, EM_CA_FILE, EM_INSECURE, EM_RATE, EM_TIMEOUT,
       EM_BACKOFF, EM_START, EM_N };
static const struct key email_keys[] = {
	[EM_NAME] = NAME_KEY(cc_email_conf, "email"),
	[EM_URL] = { .name = "url", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_email_conf, url),
		     .check = check_smtp_url, .range = "smtp://HOST:587 or smtps://HOST:465",
		     .help = "the mail server: smtp:// requires STARTTLS, smtps:// is TLS from the start" },
	[EM_FROM] = { .name = "from", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_email_conf, from),
		      .check = check_from, .help = "sender, \"coldchaind <alarms@example.vn>\" or an address" },
	[EM_USER] = { .name = "user", .kt = KT_STR, .off = OFF(cc_email_conf, user), .check = no_ctl,
		      .help = "SMTP AUTH user (requires password_file); unset = no AUTH" },
	[EM_PASSWORD_FILE] = { .name = "password_file", .kt = KT_PATH, .off = OFF(cc_email_conf, password_file),
			       .range = "mode 0600 or stricter", .secret = "password",
			       .help = "file whose first line is the SMTP password, read at load (requires user)" },
	[EM_CA_FILE] = CA_KEY(cc_email_conf),
	[EM_INSECURE] = INSECURE_KEY(cc_email_conf),
	[EM_RATE] = RATE_KEY(cc_email_conf, "30", "a mail server's own limit"),
	[EM_TIMEOUT] = TIMEOUT_KEY(cc_email_conf),
	[EM_BACKOFF] = BACKOFF_KEY(cc_email_conf),
	[EM_START] = START_KEY(cc_email_conf),
};

enum { TG_NAME, TG_API_URL, TG_TOKEN_FILE, TG_REPLIES, TG_CA_FILE, TG_INSECURE, TG_RATE, TG_TIMEOUT, TG_BACKOFF,
       TG_START, TG_N };
static const struct key telegram_keys[] = {
	[TG_NAME] = NAME_KEY(cc_telegram_conf, "telegram"),
	[TG_API_URL] = { .name = "api_url", .kt = KT_STR, .off = OFF(cc_telegram_conf, api_url),
			 .def = "https://api.telegram.org", .check = check_api_url,
			 .help = "the Bot API's base URL (a local Bot API server, a test server)" },
	[TG_TOKEN_FILE] = { .name = "token_file", .kt = KT_PATH, .flags = KF_REQ,
			    .off = OFF(cc_telegram_conf, token_file), .range = "mode 0600 or stricter",
			    .secret = "token", .help = "file whose first line is the bot token from @BotFather" },
	[TG_REPLIES] = { .name = "replies", .kt = KT_BOOL, .off = OFF(cc_telegram_conf, replies), .def = "true",
			 .help = "read replies (getUpdates): \"OK ID\" from a recipient's chat acknowledges the alarm" },
	[TG_CA_FILE] = CA_KEY(cc_telegram_conf),
	[TG_INSECURE] = INSECURE_KEY(cc_telegram_conf),
	[TG_RATE] = RATE_KEY(cc_telegram_conf, "20", "Telegram allows about 20 a minute to a group"),
	[TG_TIMEOUT] = TIMEOUT_KEY(cc_telegram_conf),
	[TG_BACKOFF] = BACKOFF_KEY(cc_telegram_conf),
	[TG_START] = START_KEY(cc_telegram_conf),
};

enum { ZA_NAME, ZA_API_URL, ZA_OAUTH_URL, ZA_APP_ID, ZA_SECRET_FILE, ZA_REFRESH_FILE, ZA_CA_FILE, ZA_INSECURE,
       ZA_RATE, ZA_TIMEOUT, ZA_BACKOFF, ZA_START, ZA_N };
static const struct key zalo_keys[] = {
	[ZA_NAME] = NAME_KEY(cc_zalo_conf, "zalo"),
	[ZA_API_URL] = { .name = "api_url", .kt = KT_STR, .off = OFF(cc_zalo_conf, api_url),
			 .def = "https://openapi.zalo.me", .check = check_api_url,
			 .help = "the Official Account API's base URL" },
	[ZA_OAUTH_URL] = { .name = "oauth_url", .kt = KT_STR, .off = OFF(cc_zalo_conf, oauth_url),
			   .def = "https://oauth.zaloapp.com", .check = check_api_url,
			   .help = "where access tokens are refreshed" },
	[ZA_APP_ID] = { .name = "app_id", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_zalo_conf, app_id),
			.check = check_zalo_id, .help = "the Zalo app's id (digits)" },
	[ZA_SECRET_FILE] = { .name = "secret_key_file", .kt = KT_PATH, .flags = KF_REQ,
			     .off = OFF(cc_zalo_conf, secret_key_file), .range = "mode 0600 or stricter",
			     .secret = "secret key", .help = "file whose first line is the app's secret key" },
	[ZA_REFRESH_FILE] = { .name = "refresh_token_file", .kt = KT_PATH, .flags = KF_REQ,
			      .off = OFF(cc_zalo_conf, refresh_token_file), .range = "mode 0600 or stricter",
			      .secret = "refresh token",
			      .help = "file whose first line is the first refresh token (later ones are kept in "
				      "state_dir)" },
	[ZA_CA_FILE] = CA_KEY(cc_zalo_conf),
	[ZA_INSECURE] = INSECURE_KEY(cc_zalo_conf),
	[ZA_RATE] = RATE_KEY(cc_zalo_conf, "20", "the Official Account's quota"),
	[ZA_TIMEOUT] = TIMEOUT_KEY(cc_zalo_conf),
	[ZA_BACKOFF] = BACKOFF_KEY(cc_zalo_conf),
	[ZA_START] = START_KEY(cc_zalo_conf),
};

static const int sms_bauds[] = { 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 0 };
enum { SM_NAME, SM_DEVICE, SM_BAUD, SM_PIN_FILE, SM_REPLIES, SM_MAX_PARTS, SM_RATE, SM_TIMEOUT, SM_BACKOFF, SM_START,
       SM_N };
static const struct key sms_keys[] = {
	[SM_NAME] = NAME_KEY(cc_sms_conf, "sms"),
	[SM_DEVICE] = { .name = "device", .kt = KT_STR, .flags = KF_REQ, .off = OFF(cc_sms_conf, device),
			.check = check_device, .help = "the GSM modem's AT serial port (one output per modem)" },
	[SM_BAUD] = { .name = "baud", .kt = KT_INT, .off = OFF(cc_sms_conf, baud), .def = "115200", .ints = sms_bauds,
		      .help = "serial speed" },
	[SM_PIN_FILE] = { .name = "pin_file", .kt = KT_PATH, .off = OFF(cc_sms_conf, pin_file),
			  .range = "mode 0600 or stricter", .secret = "PIN",
			  .help = "file whose first line is the SIM's PIN; unset = the SIM has none" },
	[SM_REPLIES] = { .name = "replies", .kt = KT_BOOL, .off = OFF(cc_sms_conf, replies), .def = "true",
			 .help = "read incoming SMS: \"OK ID\" from a recipient's phone acknowledges the alarm" },
	[SM_MAX_PARTS] = { .name = "max_parts", .kt = KT_INT, .off = OFF(cc_sms_conf, max_parts), .def = "3", .min = 1,
			   .max = 10, .help = "a longer message is cut after this many SMS parts" },
	[SM_RATE] = RATE_KEY(cc_sms_conf, "6", "a modem sends about 6 a minute"),
	[SM_TIMEOUT] = TIMEOUT_KEY(cc_sms_conf),
	[SM_BACKOFF] = BACKOFF_KEY(cc_sms_conf),
	[SM_START] = START_KEY(cc_sms_conf),
};

static const char *const lang_names[] = { "vi", "en", NULL };
enum { RC_NAME, RC_LANG, RC_EMAIL, RC_TELEGRAM, RC_ZALO, RC_PHONE, RC_QUIET, RC_N };
static const struct key recipient_keys[] = {
	[RC_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_recipient_conf, name),
		      .help = "the person, unique; routes name them; an ack by reply is in this name" },
	[RC_LANG] = { .name = "lang", .kt = KT_ENUM, .off = OFF(cc_recipient_conf, lang), .def = "vi",
		      .enums = lang_names, .store = ES_STR, .help = "language of their messages" },
	[RC_EMAIL] = { .name = "email", .kt = KT_STR, .off = OFF(cc_recipient_conf, email), .check = check_email,
		       .help = "e-mail address; unset = not reachable by e-mail" },
	[RC_TELEGRAM] = { .name = "telegram", .kt = KT_STR, .off = OFF(cc_recipient_conf, telegram),
			  .check = check_tg_chat, .help = "Telegram chat id (they must have started the bot)" },
	[RC_ZALO] = { .name = "zalo", .kt = KT_STR, .off = OFF(cc_recipient_conf, zalo), .check = check_zalo_id,
		      .help = "Zalo user id (a follower of the Official Account)" },
	[RC_PHONE] = { .name = "phone", .kt = KT_STR, .off = OFF(cc_recipient_conf, phone), .check = check_e164,
		       .range = "E.164, +84912345678", .help = "mobile number for SMS" },
	[RC_QUIET] = { .name = "quiet_hours", .kt = KT_STR, .off = OFF(cc_recipient_conf, quiet_hours),
		       .check = check_quiet, .range = "HH:MM-HH:MM (may cross midnight)",
		       .help = "in the site's time zone: non-critical messages wait until the end (critical ones "
			       "never wait); unset = none" },
};

enum { RT_NAME, RT_MIN_SEVERITY, RT_ROOMS, RT_KINDS, RT_TO, RT_CHAIN, RT_VIA, RT_DIGEST, RT_DIGEST_AT, RT_N };
static const struct key route_keys[] = {
	[RT_NAME] = { .name = "name", .kt = KT_NAME, .flags = KF_REQ, .off = OFF(cc_route_conf, name),
		      .help = "the route, unique (coldchainctl notify test NAME)" },
	[RT_MIN_SEVERITY] = { .name = "min_severity", .kt = KT_ENUM, .off = OFF(cc_route_conf, min_severity),
			      .def = "warning", .enums = severity_names, .store = ES_INT,
			      .help = "alarms of a lower severity do not take this route" },
	[RT_ROOMS] = { .name = "rooms", .kt = KT_LIST, .flags = KF_NOPRINT, .range = "[ \"ROOM\", ... ]",
		       .help = "only alarms of these rooms (or processing lines); unset = all" },
	[RT_KINDS] = { .name = "kinds", .kt = KT_LIST, .flags = KF_NOPRINT, .range = "[ \"RULE\", ... ]",
		       .help = "only these alarm rules (\"temp_high\", \"door\", ...); unset = all" },
	[RT_TO] = { .name = "to", .kt = KT_LIST, .flags = KF_NOPRINT, .range = "[ \"RECIPIENT\", ... ]",
		    .help = "told at the raise, and of its acknowledgement and return" },
	[RT_CHAIN] = { .name = "chain", .kt = KT_LIST, .flags = KF_NOPRINT, .range = "[ \"RECIPIENT\", ... ]",
		       .help = "escalation: the k-th also hears of the alarm at its k-th escalation or "
			       "re-notification while unacknowledged (the engine's timers)" },
	[RT_VIA] = { .name = "via", .kt = KT_LIST, .flags = KF_REQ | KF_NOPRINT, .range = "[ \"OUTPUT\", ... ]",
		     .help = "channel outputs (email, telegram, zalo, sms names): each recipient gets the message on "
			     "every one of them they have an address for" },
	[RT_DIGEST] = { .name = "digest", .kt = KT_BOOL, .off = OFF(cc_route_conf, digest), .def = "false",
			.help = "non-critical events in one daily message at digest_at (critical ones at once)" },
	[RT_DIGEST_AT] = { .name = "digest_at", .kt = KT_STR, .off = OFF(cc_route_conf, digest_at), .def = "07:30",
			   .check = check_hhmm, .range = "HH:MM", .help = "when the daily digest leaves (site time)" },
};

const struct group g_email = GROUP("outputs.email", email_keys, "one e-mail channel: SMTP (list element)");
const struct group g_telegram = GROUP("outputs.telegram", telegram_keys, "one Telegram bot (list element)");
const struct group g_zalo = GROUP("outputs.zalo", zalo_keys, "one Zalo Official Account (list element)");
const struct group g_sms = GROUP("outputs.sms", sms_keys, "one GSM modem sending SMS (list element)");
const struct group g_recipient = GROUP("recipients", recipient_keys, "people alarms reach (list element)");
const struct group g_route = GROUP("routes", route_keys, "which alarms go to whom, by which channels (list element)");
_Static_assert(ARRAY_SIZE(email_keys) == EM_N, "email_keys");
_Static_assert(ARRAY_SIZE(telegram_keys) == TG_N, "telegram_keys");
_Static_assert(ARRAY_SIZE(zalo_keys) == ZA_N, "zalo_keys");
_Static_assert(ARRAY_SIZE(sms_keys) == SM_N, "sms_keys");
_Static_assert(ARRAY_SIZE(recipient_keys) == RC_N, "recipient_keys");
_Static_assert(ARRAY_SIZE(route_keys) == RT_N, "route_keys");

/* ---- loading the outputs --------------------------------------------------- */

static void secret_key(struct ctx *c, const struct seen *sn, const char *file, char **dst, const char *what,
		       const char *path, const char *key)
{
	char *kp;

	if (!ok(sn))
		return;
	kp = key_path(path, key);
	read_secret(c, file, dst, what, sn->s, kp);
	free(kp);
}

int config_telegram_token_ok(const char *s)
{
	return s && *s &&
	       strspn(s, "0123456789:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-") == strlen(s);
}

int config_zalo_token_ok(const char *s)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return 0;
	return n > 0 && n < CC_ZALO_TOKEN_MAX;
}

/* A secret that was read but has not the form its transport needs (the
 * secret itself is never shown). */
static void secret_form(struct ctx *c, const struct seen *sn, const char *secret, int (*form_ok)(const char *),
			const char *path, const char *key, const char *what, const char *form)
{
	char *kp, *disp;

	if (!secret || form_ok(secret))
		return;
	kp = key_path(path, key);
	disp = path_join(c->dir, config_setting_get_string(sn->s));
	err_at(c, sn->s, kp, "%s file %s: the first line is not a %s (%s)", what, disp, what, form);
	free(disp);
	free(kp);
}

static void common_name(struct ctx *c, const struct seen *sn, const config_setting_t *el, const char *name,
			const char *path)
{
	if (ok(sn))
		name_unique(c, &c->outputs, "output", name, el, sn->s, path, "name");
}

static void email_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_email_conf *o = &c->cfg->emails[c->cfg->nemails++];
	struct seen sn[MAX_KEYS];

	(void)arg;
	o->c.line = src_line(el);
	schema_apply(c, el, el, &g_email, o, path, sn);
	common_name(c, &sn[EM_NAME], el, o->c.name, path);
	if (sn[EM_PASSWORD_FILE].s && !sn[EM_USER].s) {
		char *kp = key_path(path, "password_file");
		err_at(c, sn[EM_PASSWORD_FILE].s, kp, "requires user");
		free(kp);
	}
	if (sn[EM_USER].s && !sn[EM_PASSWORD_FILE].s)
		err_key(c, sn, EM_USER, email_keys, NULL, path, "requires password_file");
	secret_key(c, &sn[EM_PASSWORD_FILE], o->password_file, &o->password, "password", path, "password_file");
	if (ok(&sn[EM_CA_FILE]))
		check_readable(c, o->ca_file, sn[EM_CA_FILE].s, path, "ca_file");
}

static void telegram_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_telegram_conf *o = &c->cfg->telegrams[c->cfg->ntelegrams++];
	struct seen sn[MAX_KEYS];

	(void)arg;
	o->c.line = src_line(el);
	schema_apply(c, el, el, &g_telegram, o, path, sn);
	common_name(c, &sn[TG_NAME], el, o->c.name, path);
	secret_key(c, &sn[TG_TOKEN_FILE], o->token_file, &o->token, "token", path, "token_file");
	secret_form(c, &sn[TG_TOKEN_FILE], o->token, config_telegram_token_ok, path, "token_file", "bot token",
		    "digits, letters, ':', '_' and '-', as @BotFather gives it");
	if (ok(&sn[TG_CA_FILE]))
		check_readable(c, o->ca_file, sn[TG_CA_FILE].s, path, "ca_file");
}

static void zalo_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_zalo_conf *o = &c->cfg->zalos[c->cfg->nzalos++];
	struct seen sn[MAX_KEYS];

	(void)arg;
	o->c.line = src_line(el);
	schema_apply(c, el, el, &g_zalo, o, path, sn);
	common_name(c, &sn[ZA_NAME], el, o->c.name, path);
	secret_key(c, &sn[ZA_SECRET_FILE], o->secret_key_file, &o->secret_key, "secret key", path, "secret_key_file");
	secret_key(c, &sn[ZA_REFRESH_FILE], o->refresh_token_file, &o->refresh_token, "refresh token", path,
		   "refresh_token_file");
	secret_form(c, &sn[ZA_SECRET_FILE], o->secret_key, config_zalo_token_ok, path, "secret_key_file", "secret key",
		    "printable ASCII without spaces, under 2048 bytes");
	secret_form(c, &sn[ZA_REFRESH_FILE], o->refresh_token, config_zalo_token_ok, path, "refresh_token_file",
		    "refresh token", "printable ASCII without spaces, under 2048 bytes");
	if (ok(&sn[ZA_CA_FILE]))
		check_readable(c, o->ca_file, sn[ZA_CA_FILE].s, path, "ca_file");
}

static void sms_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_sms_conf *o = &c->cfg->smses[c->cfg->nsmses++];
	struct seen sn[MAX_KEYS];

	(void)arg;
	o->c.line = src_line(el);
	schema_apply(c, el, el, &g_sms, o, path, sn);
	common_name(c, &sn[SM_NAME], el, o->c.name, path);
	secret_key(c, &sn[SM_PIN_FILE], o->pin_file, &o->pin, "PIN", path, "pin_file");
	for (size_t i = 0; i + 1 < c->cfg->nsmses && ok(&sn[SM_DEVICE]); i++)
		if (c->cfg->smses[i].device && strcmp(c->cfg->smses[i].device, o->device) == 0)
			err_key(c, sn, SM_DEVICE, sms_keys, NULL, path, "%s is already the device of output %s: one "
				"output per modem", o->device, c->cfg->smses[i].c.name ? c->cfg->smses[i].c.name : "?");
}

struct chan_list {
	const char *key, *prefix;
	void (*elem)(struct ctx *c, const config_setting_t *el, const char *path, void *arg);
	size_t size, arr_off, n_off;
};

#define CHAN_LIST(k, st, arr, n, fn) \
	{ k, k, fn, sizeof(struct st), offsetof(struct cc_config, arr), offsetof(struct cc_config, n) }
static const struct chan_list chan_lists[] = {
	CHAN_LIST("email", cc_email_conf, emails, nemails, email_elem),
	CHAN_LIST("telegram", cc_telegram_conf, telegrams, ntelegrams, telegram_elem),
	CHAN_LIST("zalo", cc_zalo_conf, zalos, nzalos, zalo_elem),
	CHAN_LIST("sms", cc_sms_conf, smses, nsmses, sms_elem),
};

/* The common part of element i of list l, or NULL. */
static struct cc_channel_common *chan_at(const struct cc_config *cfg, const struct chan_list *l, size_t i)
{
	char *arr = *(char *const *)(const void *)((const char *)cfg + l->arr_off);
	size_t n = *(const size_t *)(const void *)((const char *)cfg + l->n_off);

	return i < n ? (struct cc_channel_common *)(void *)(arr + i * l->size) : NULL;
}

/* The kind ("email", ...) of channel output name, or NULL when none is. */
const char *config_channel_kind(const struct cc_config *cfg, const char *name)
{
	for (size_t k = 0; k < ARRAY_SIZE(chan_lists); k++)
		for (size_t i = 0; chan_at(cfg, &chan_lists[k], i); i++)
			if (strcmp(chan_at(cfg, &chan_lists[k], i)->name, name) == 0)
				return chan_lists[k].key;
	return NULL;
}

static void load_chan_outputs(struct ctx *c, const config_setting_t *os)
{
	for (size_t k = 0; k < ARRAY_SIZE(chan_lists); k++) {
		const struct chan_list *l = &chan_lists[k];
		const config_setting_t *ls = os ? config_setting_get_member(os, l->key) : NULL;
		char **arr = (char **)(void *)((char *)c->cfg + l->arr_off);
		char *base;

		if (!ls || config_setting_type(ls) != CONFIG_TYPE_LIST)
			continue;
		*arr = xcalloc((size_t)config_setting_length(ls) + 1, l->size);
		base = xasprintf("outputs.%s", l->key);
		schema_each_group(c, ls, base, "name", l->elem, NULL);
		free(base);
		for (size_t i = 0; chan_at(c->cfg, l, i); i++) {
			struct cc_channel_common *cc = chan_at(c->cfg, l, i);
			if (!cc->name) {
				cc->name = derive_name(c, l->prefix, i);
				names_add(&c->outputs, cc->name, ls);
			}
		}
	}
}

/* ---- recipients and routes ------------------------------------------------- */

static void recipient_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_recipient_conf *r = &c->cfg->recipients[c->cfg->nrecipients++];
	struct names *seen = arg;
	struct seen sn[MAX_KEYS];

	r->line = src_line(el);
	schema_apply(c, el, el, &g_recipient, r, path, sn);
	if (ok(&sn[RC_NAME]))
		name_unique(c, seen, "recipient", r->name, el, sn[RC_NAME].s, path, "name");
	r->quiet_start_min = r->quiet_end_min = -1;
	if (ok(&sn[RC_QUIET])) {
		parse_hhmm(r->quiet_hours, &r->quiet_start_min);
		parse_hhmm(r->quiet_hours + 6, &r->quiet_end_min);
	}
	if (!sn[RC_EMAIL].s && !sn[RC_TELEGRAM].s && !sn[RC_ZALO].s && !sn[RC_PHONE].s && ok(&sn[RC_NAME]))
		err_at(c, el, path, "has no address: set email, telegram, zalo or phone");
}

/* A list of names into *v, *n; each checked by known (NULL: fine, else why not). */
static void name_list(struct ctx *c, const config_setting_t *ls, const char *path, const char *key, char ***v,
		      size_t *n)
{
	int len = config_setting_length(ls);
	char *kp = key_path(path, key);

	*v = xcalloc((size_t)len + 1, sizeof(**v));
	for (int i = 0; i < len; i++) {
		const config_setting_t *el = config_setting_get_elem(ls, (unsigned)i);
		const char *s = config_setting_get_string(el);
		char *ep = xasprintf("%s[%d]", kp, i);
		int dup = 0;

		for (size_t j = 0; s && j < *n; j++)
			dup |= strcmp((*v)[j], s) == 0;
		if (!s || !*s)
			err_at(c, el, ep, "must be a name string");
		else if (dup)
			err_at(c, el, ep, "\"%s\" is named twice", s);
		else
			(*v)[(*n)++] = xstrdup(s);
		free(ep);
	}
	free(kp);
}

const struct cc_recipient_conf *config_recipient(const struct cc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nrecipients; i++)
		if (cfg->recipients[i].name && strcmp(cfg->recipients[i].name, name) == 0)
			return &cfg->recipients[i];
	return NULL;
}

/* The recipient's address for a channel kind, or NULL. */
const char *config_recipient_address(const struct cc_recipient_conf *r, const char *kind)
{
	if (strcmp(kind, "email") == 0)
		return r->email;
	if (strcmp(kind, "telegram") == 0)
		return r->telegram;
	if (strcmp(kind, "zalo") == 0)
		return r->zalo;
	if (strcmp(kind, "sms") == 0)
		return r->phone;
	return NULL;
}

/* Each name in to/chain a recipient, reachable on at least one channel of
 * via (an address missing on one channel only skips that channel: a route
 * via Zalo and SMS serves the ones on Zalo and the ones with a phone; a
 * recipient reachable on none of them would never be told: an error). */
static void route_people(struct ctx *c, const struct cc_route_conf *rt, const config_setting_t *ls,
			 const char *path, const char *key, char **v, size_t n)
{
	char *kp = key_path(path, key);

	for (size_t i = 0; i < n; i++) {
		const struct cc_recipient_conf *r = config_recipient(c->cfg, v[i]);
		const config_setting_t *el = config_setting_get_elem(ls, (unsigned)i);
		char *ep = xasprintf("%s[%zu]", kp, i);
		int reach = 0;

		for (size_t j = 0; r && j < rt->nvia; j++) {
			const char *kind = config_channel_kind(c->cfg, rt->via[j]);
			reach |= kind && config_recipient_address(r, kind) != NULL;
		}
		if (!r)
			err_at(c, el ? el : ls, ep, "no recipient is named \"%s\"", v[i]);
		else if (!reach && rt->nvia)
			err_at(c, el ? el : ls, ep, "recipient \"%s\" has no address on any channel of via (%s%s)",
			       v[i], rt->via[0], rt->nvia > 1 ? ", ..." : "");
		free(ep);
	}
	free(kp);
}

static void route_via(struct ctx *c, const struct cc_route_conf *rt, const config_setting_t *ls, const char *path)
{
	for (size_t i = 0; i < rt->nvia; i++) {
		const config_setting_t *el = config_setting_get_elem(ls, (unsigned)i);
		char *ep = xasprintf("%s.via[%zu]", path, i);
		int other = 0;

		for (size_t k = 0; k < c->outputs.n; k++)
			other |= strcmp(c->outputs.v[k].name, rt->via[i]) == 0;
		if (!config_channel_kind(c->cfg, rt->via[i]))
			err_at(c, el ? el : ls, ep, other ? "output \"%s\" is not a channel to people (email, telegram, "
				"zalo, sms)" : "no channel output is named \"%s\"", rt->via[i]);
		free(ep);
	}
}

/* A route's rooms: rooms or processing lines. */
static void route_rooms(struct ctx *c, const struct cc_route_conf *rt, const config_setting_t *ls, const char *path)
{
	for (size_t i = 0; i < rt->nrooms; i++) {
		const config_setting_t *el = config_setting_get_elem(ls, (unsigned)i);
		int found = 0;

		for (size_t k = 0; k < c->cfg->nrooms && !found; k++)
			found = c->cfg->rooms[k].name && strcmp(c->cfg->rooms[k].name, rt->rooms[i]) == 0;
		for (size_t k = 0; k < c->cfg->nprocesses && !found; k++)
			found = c->cfg->processes[k].name && strcmp(c->cfg->processes[k].name, rt->rooms[i]) == 0;
		if (!found) {
			char *ep = xasprintf("%s.rooms[%zu]", path, i);
			err_at(c, el ? el : ls, ep, "no room or processing line is named \"%s\"", rt->rooms[i]);
			free(ep);
		}
	}
}

static void route_elem(struct ctx *c, const config_setting_t *el, const char *path, void *arg)
{
	struct cc_route_conf *rt = &c->cfg->routes[c->cfg->nroutes++];
	struct names *seen = arg;
	struct seen sn[MAX_KEYS];

	rt->line = src_line(el);
	schema_apply(c, el, el, &g_route, rt, path, sn);
	if (ok(&sn[RT_NAME]))
		name_unique(c, seen, "route", rt->name, el, sn[RT_NAME].s, path, "name");
	if (ok(&sn[RT_ROOMS])) {
		name_list(c, sn[RT_ROOMS].s, path, "rooms", &rt->rooms, &rt->nrooms);
		route_rooms(c, rt, sn[RT_ROOMS].s, path);
	}
	if (ok(&sn[RT_KINDS]))
		name_list(c, sn[RT_KINDS].s, path, "kinds", &rt->kinds, &rt->nkinds);
	if (ok(&sn[RT_TO]))
		name_list(c, sn[RT_TO].s, path, "to", &rt->to, &rt->nto);
	if (ok(&sn[RT_CHAIN]))
		name_list(c, sn[RT_CHAIN].s, path, "chain", &rt->chain, &rt->nchain);
	if (ok(&sn[RT_VIA])) {
		name_list(c, sn[RT_VIA].s, path, "via", &rt->via, &rt->nvia);
		route_via(c, rt, sn[RT_VIA].s, path);
		if (!rt->nvia)
			err_at(c, sn[RT_VIA].s, path, "via names no channel");
	}
	if (ok(&sn[RT_TO]))
		route_people(c, rt, sn[RT_TO].s, path, "to", rt->to, rt->nto);
	if (ok(&sn[RT_CHAIN]))
		route_people(c, rt, sn[RT_CHAIN].s, path, "chain", rt->chain, rt->nchain);
	if (!rt->nto && !rt->nchain && ok(&sn[RT_NAME]))
		err_at(c, el, path, "names nobody: set to (and/or chain)");
	parse_hhmm(rt->digest_at, &rt->digest_at_min);
	if (!ok(&sn[RT_DIGEST_AT]))
		rt->digest_at_min = 7 * 60 + 30;
}

/* After the other outputs: outputs.email/telegram/zalo/sms, then the
 * recipients and the routes (their types checked by the groups' tables);
 * after the rooms and the processing lines, which routes name. */
void load_channels(struct ctx *c, const config_setting_t *os, const config_setting_t *recipients,
		   const config_setting_t *routes)
{
	struct names seen = { 0 };

	load_chan_outputs(c, os);
	if (recipients) {
		c->cfg->recipients = xcalloc((size_t)config_setting_length(recipients) + 1, sizeof(*c->cfg->recipients));
		schema_each_group(c, recipients, "recipients", "name", recipient_elem, &seen);
	}
	names_free(&seen);
	seen = (struct names){ 0 };
	if (routes) {
		c->cfg->routes = xcalloc((size_t)config_setting_length(routes) + 1, sizeof(*c->cfg->routes));
		schema_each_group(c, routes, "routes", "name", route_elem, &seen);
	}
	names_free(&seen);
}

/* ---- printing and freeing ------------------------------------------------ */

static void print_names(FILE *f, const char *key, char **v, size_t n)
{
	if (!n)
		return;
	fprintf(f, "    %s = [ ", key);
	for (size_t i = 0; i < n; i++) {
		schema_print_string(f, v[i]);
		fputs(i + 1 < n ? ", " : " ", f);
	}
	fputs("];\n", f);
}

/* Inside "outputs = { ... }". */
void print_chan_outputs(const struct cc_config *cfg, FILE *f)
{
	static const struct group *const g[] = { &g_email, &g_telegram, &g_zalo, &g_sms };

	for (size_t k = 0; k < ARRAY_SIZE(chan_lists); k++) {
		if (!chan_at(cfg, &chan_lists[k], 0))
			continue;
		fprintf(f, "  %s = (\n", chan_lists[k].key);
		for (size_t i = 0; chan_at(cfg, &chan_lists[k], i); i++) {
			fputs("    {\n", f);
			schema_print_keys(f, "      ", g[k], chan_at(cfg, &chan_lists[k], i), 0);
			fprintf(f, "    }%s\n", chan_at(cfg, &chan_lists[k], i + 1) ? "," : "");
		}
		fputs("  );\n", f);
	}
}

/* The top-level lists recipients and routes. */
void print_channels(const struct cc_config *cfg, FILE *f)
{
	if (cfg->nrecipients) {
		fputs("\nrecipients = (\n", f);
		for (size_t i = 0; i < cfg->nrecipients; i++) {
			fputs("  { ", f);
			schema_print_keys(f, "", &g_recipient, &cfg->recipients[i], 1);
			fprintf(f, " }%s\n", i + 1 < cfg->nrecipients ? "," : "");
		}
		fputs(");\n", f);
	}
	if (cfg->nroutes) {
		fputs("\nroutes = (\n", f);
		for (size_t i = 0; i < cfg->nroutes; i++) {
			const struct cc_route_conf *rt = &cfg->routes[i];
			fputs("  {\n", f);
			schema_print_keys(f, "    ", &g_route, rt, 0);
			print_names(f, "rooms", rt->rooms, rt->nrooms);
			print_names(f, "kinds", rt->kinds, rt->nkinds);
			print_names(f, "to", rt->to, rt->nto);
			print_names(f, "chain", rt->chain, rt->nchain);
			print_names(f, "via", rt->via, rt->nvia);
			fprintf(f, "  }%s\n", i + 1 < cfg->nroutes ? "," : "");
		}
		fputs(");\n", f);
	}
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_chan_outputs(struct cc_config *cfg)
{
	for (size_t i = 0; i < cfg->nemails; i++) {
		struct cc_email_conf *o = &cfg->emails[i];
		free(o->c.name), free(o->url), free(o->from), free(o->user), free(o->password_file), free(o->ca_file);
		free_secret(o->password);
	}
	for (size_t i = 0; i < cfg->ntelegrams; i++) {
		struct cc_telegram_conf *o = &cfg->telegrams[i];
		free(o->c.name), free(o->api_url), free(o->token_file), free(o->ca_file);
		free_secret(o->token);
	}
	for (size_t i = 0; i < cfg->nzalos; i++) {
		struct cc_zalo_conf *o = &cfg->zalos[i];
		free(o->c.name), free(o->api_url), free(o->oauth_url), free(o->app_id), free(o->secret_key_file);
		free(o->refresh_token_file), free(o->ca_file);
		free_secret(o->secret_key), free_secret(o->refresh_token);
	}
	for (size_t i = 0; i < cfg->nsmses; i++) {
		struct cc_sms_conf *o = &cfg->smses[i];
		free(o->c.name), free(o->device), free(o->pin_file);
		free_secret(o->pin);
	}
	free(cfg->emails), free(cfg->telegrams), free(cfg->zalos), free(cfg->smses);
}

void free_channels(struct cc_config *cfg)
{
	free_chan_outputs(cfg);
	for (size_t i = 0; i < cfg->nrecipients; i++) {
		struct cc_recipient_conf *r = &cfg->recipients[i];
		free(r->name), free(r->lang), free(r->email), free(r->telegram), free(r->zalo), free(r->phone);
		free(r->quiet_hours);
	}
	free(cfg->recipients);
	for (size_t i = 0; i < cfg->nroutes; i++) {
		struct cc_route_conf *rt = &cfg->routes[i];
		free(rt->name), free(rt->digest_at);
		free_names(rt->rooms, rt->nrooms), free_names(rt->kinds, rt->nkinds);
		free_names(rt->to, rt->nto), free_names(rt->chain, rt->nchain), free_names(rt->via, rt->nvia);
	}
	free(cfg->routes);
}
