/* i18n.c - translations looked up in the .mo msgfmt made from po/vi.po,
 * embedded in the binary: per call, by language, with no locale installed
 * (see i18n.h).  The .mo format is GNU gettext's: a header, then two
 * tables of (length, offset) for the msgids (sorted by msgfmt: a binary
 * search finds one) and for their translations. */
#include "i18n.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* build/gen/i18n_mo.c, made from po/vi.po by the Makefile */
extern const unsigned char i18n_mo_vi[];
extern const size_t i18n_mo_vi_len;

#define MO_MAGIC 0x950412deU

struct mo {
	const unsigned char *p;
	size_t len;
	int swap;      /* written on a machine of the other byte order */
	uint32_t n, orig, trans;
	int ok;        /* checked sound */
};

static struct mo mo_vi;
static pthread_once_t mo_once = PTHREAD_ONCE_INIT;

static uint32_t mo_u32(const struct mo *m, size_t off)
{
	uint32_t v;

	memcpy(&v, m->p + off, 4);
	return m->swap ? __builtin_bswap32(v) : v;
}

/* String i of the table at tab: 0 and *s, *len when it lies within the
 * file and ends with a NUL there. */
static int mo_str(const struct mo *m, uint32_t tab, uint32_t i, const char **s, uint32_t *len)
{
	size_t at = (size_t)tab + (size_t)i * 8;
	uint32_t l, off;

	if (at + 8 > m->len)
		return -EINVAL;
	l = mo_u32(m, at);
	off = mo_u32(m, at + 4);
	if ((size_t)off + l >= m->len || m->p[(size_t)off + l] != '\0')
		return -EINVAL;
	*s = (const char *)m->p + off;
	*len = l;
	return 0;
}

static int mo_open(struct mo *m, const unsigned char *p, size_t len)
{
	uint32_t magic;
	const char *s;
	uint32_t l;

	m->p = p;
	m->len = len;
	if (len < 28)
		return -EINVAL;
	memcpy(&magic, p, 4);
	if (magic == MO_MAGIC)
		m->swap = 0;
	else if (__builtin_bswap32(magic) == MO_MAGIC)
		m->swap = 1;
	else
		return -EINVAL;
	if (mo_u32(m, 4) >> 16 != 0) /* major revision 0: the one format we read */
		return -EINVAL;
	m->n = mo_u32(m, 8);
	m->orig = mo_u32(m, 12);
	m->trans = mo_u32(m, 16);
	if (m->n > len / 16)
		return -EINVAL;
	for (uint32_t i = 0; i < m->n; i++)
		if (mo_str(m, m->orig, i, &s, &l) < 0 || mo_str(m, m->trans, i, &s, &l) < 0)
			return -EINVAL;
	m->ok = 1;
	return 0;
}

static void mo_init(void)
{
	mo_open(&mo_vi, i18n_mo_vi, i18n_mo_vi_len);
}

static const struct mo *mo_for(int lang)
{
	if (lang != I18N_VI)
		return NULL;
	pthread_once(&mo_once, mo_init);
	return mo_vi.ok ? &mo_vi : NULL;
}

int i18n_check(int lang)
{
	if (lang == I18N_EN)
		return 0;
	return mo_for(lang) ? 0 : -EINVAL;
}

/* The translation of msgid (the whole of it, or a plural entry's first
 * form: strcmp stops at the NUL between msgid and msgid_plural), NULL
 * when there is none. */
static const char *mo_find(const struct mo *m, const char *msgid, uint32_t *tlen)
{
	uint32_t lo = 0, hi = m->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, l;
		const char *s;
		int c;
		if (mo_str(m, m->orig, mid, &s, &l) < 0) /* checked by mo_open: cannot happen */
			return NULL;
		c = strcmp(msgid, s);
		if (c == 0) {
			const char *t;
			if (mo_str(m, m->trans, mid, &t, tlen) < 0 || *tlen == 0)
				return NULL;
			return t;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *i18n_tr(int lang, const char *msgid)
{
	const struct mo *m = mo_for(lang);
	const char *t;
	uint32_t l;

	if (!m || !msgid || !*msgid) /* "" is the catalogue's header */
		return msgid;
	t = mo_find(m, msgid, &l);
	return t ? t : msgid;
}

const char *i18n_ntr(int lang, const char *msgid, const char *msgid_plural, unsigned long n)
{
	const struct mo *m = mo_for(lang);
	const char *t;
	uint32_t l;

	if (!m || !msgid || !*msgid)
		return n == 1 ? msgid : msgid_plural;
	t = mo_find(m, msgid, &l);
	/* Vietnamese: nplurals=1, plural=0: the first form whatever n */
	return t ? t : (n == 1 ? msgid : msgid_plural);
}

const char *i18n_lang_code(int lang)
{
	return lang == I18N_VI ? "vi" : lang == I18N_EN ? "en" : NULL;
}

/* One language range "vi-VN" (len bytes): the language we have, -1 none,
 * -2 "*". */
static int range_lang(const char *r, size_t len)
{
	size_t pl = 0;

	while (pl < len && r[pl] != '-')
		pl++;
	if (len == 1 && r[0] == '*')
		return -2;
	if (pl == 2 && strncasecmp(r, "vi", 2) == 0)
		return I18N_VI;
	if (pl == 2 && strncasecmp(r, "en", 2) == 0)
		return I18N_EN;
	return -1;
}

/* A weight "q=0.8" (RFC 9110: 0 to 1, at most three decimals) in
 * thousandths; -1 malformed. */
static int parse_q(const char *s, size_t len)
{
	int q = 0, digits = 0;

	while (len && isspace((unsigned char)*s))
		s++, len--;
	if (len < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=' || (s[2] != '0' && s[2] != '1'))
		return -1;
	q = (s[2] - '0') * 1000;
	s += 3, len -= 3;
	if (len && *s == '.') {
		int scale = 100;
		for (s++, len--; len && isdigit((unsigned char)*s) && digits < 3; s++, len--, digits++, scale /= 10)
			q += (*s - '0') * scale;
	}
	while (len && isspace((unsigned char)*s))
		s++, len--;
	return len || q > 1000 ? -1 : q;
}

/* Parses one item "vi-VN;q=0.8" of s[0..len): its language and weight;
 * 0, or -1 when it is malformed or not ours. */
static int parse_item(const char *s, size_t len, int def, int *lang, int *q)
{
	size_t rl = 0, semi;
	int l;

	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (rl < len && (isalnum((unsigned char)s[rl]) || s[rl] == '-' || s[rl] == '*'))
		rl++;
	if (rl == 0 || rl > 17)
		return -1;
	l = range_lang(s, rl);
	if (l == -1)
		return -1;
	*lang = l == -2 ? def : l;
	*q = 1000;
	for (semi = rl; semi < len && isspace((unsigned char)s[semi]); semi++)
		;
	if (semi == len)
		return 0;
	if (s[semi] != ';')
		return -1;
	*q = parse_q(s + semi + 1, len - semi - 1);
	return *q < 0 ? -1 : 0;
}

int i18n_lang_from_accept_or(const char *al, int def)
{
	size_t len, items = 0;
	int best = def, best_q = 0;

	if (!al)
		return def;
	len = strnlen(al, I18N_ACCEPT_MAX);
	while (len && items++ < I18N_ACCEPT_ITEMS) {
		const char *comma = memchr(al, ',', len);
		size_t il = comma ? (size_t)(comma - al) : len;
		int lang, q;
		if (parse_item(al, il, def, &lang, &q) == 0 && q > best_q) {
			best = lang;
			best_q = q;
		}
		al += il + (comma ? 1 : 0);
		len -= il + (comma ? 1 : 0);
	}
	return best;
}

int i18n_lang_from_accept(const char *al)
{
	return i18n_lang_from_accept_or(al, I18N_VI);
}

/* TRANSLATORS: labels of the web pages and words of notifications:
 * short, as on a sign in a packhouse. */
/* The alarm rules people read, and the unit of their value and limit. */
static const struct i18n_rule_words rule_words[] = {
	{ "temp_high", N_("temperature high"), "°C" },
	{ "temp_high_high", N_("temperature very high"), "°C" },
	{ "temp_low", N_("temperature low"), "°C" },
	{ "temp_low_low", N_("temperature very low"), "°C" },
	{ "rh_high", N_("humidity high"), "%" },
	{ "rh_high_high", N_("humidity very high"), "%" },
	{ "rh_low", N_("humidity low"), "%" },
	{ "rh_low_low", N_("humidity very low"), "%" },
	{ "temp_rate", N_("temperature rising fast"), "K/h" },
	{ "stuck", N_("sensor value stuck"), "" },
	{ "door_open", N_("door open too long"), "" },
	{ "condensation", N_("condensation risk"), "" },
	{ "co2_high", N_("CO2 high: do not enter"), "ppm" },
	{ "o2_low", N_("O2 low: do not enter"), "%" },
	{ "refrigeration_failure", N_("refrigeration failure"), "" },
};

const struct i18n_rule_words *i18n_rule(const char *rule)
{
	for (size_t i = 0; rule && i < sizeof(rule_words) / sizeof(rule_words[0]); i++)
		if (strcmp(rule_words[i].rule, rule) == 0)
			return &rule_words[i];
	return NULL;
}

const char *const i18n_words[] = {
	N_("Cold store"), N_("Overview"), N_("Room"), N_("Lot"), N_("Product"), N_("Temperature"),
	N_("Relative humidity"), N_("Door"), N_("Door open"), N_("Door closed"), N_("Alarm"), N_("Alarms"),
	N_("Active"), N_("Acknowledged"), N_("Shelved"), N_("Normal"), N_("Cleared, not acknowledged"),
	N_("Severity"), N_("Info"), N_("Warning"), N_("Critical"), N_("Remaining shelf life"), N_("Consumed"),
	N_("Acknowledge"), N_("Shelve for"), N_("Unshelve"), N_("Note"), N_("Log in"), N_("Log out"),
	N_("User name"), N_("Password"), N_("Last 24 hours"), N_("Limit"), N_("Storage band"), N_("Minimum"),
	N_("Maximum"), N_("Mean"), N_("No data"), N_("Updated"), N_("Stale"), N_("Language"),
	/* TRANSLATORS: a duration in minutes, e.g. "15 min" */
	N_("%d min"),
	/* TRANSLATORS: a duration in hours, e.g. "36 h" */
	N_("%d h"),
	NULL
};

/* The plural forms the pages use (xgettext finds them here). */
static inline const char *i18n_plurals(int lang, unsigned long n) __attribute__((unused));
static inline const char *i18n_plurals(int lang, unsigned long n)
{
	return i18n_ntr(lang, "%lu lot", "%lu lots", n);
}
