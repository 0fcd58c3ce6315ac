/* i18n.h - the words people read, in Vietnamese or English, chosen per
 * request (a page's Accept-Language, a notification's recipient) rather
 * than per process: glibc's gettext() follows the process locale, and a
 * packhouse gateway seldom has vi_VN generated.  The catalogue is
 * po/vi.po, compiled by msgfmt at build time into a .mo embedded in the
 * binary (build/gen/i18n_mo.c) and looked up here.  English is the source
 * language: a msgid is the English text. */
#ifndef CC_I18N_H
#define CC_I18N_H

#include <stddef.h>

enum i18n_lang { I18N_VI, I18N_EN, I18N_N };

/* Marks a string for xgettext without translating it (a table of words). */
#define N_(s) (s)

/* The language an Accept-Language header (RFC 9110 12.5.4) asks for
 * most: "vi", "vi-VN" -> I18N_VI, "en", "en-GB" -> I18N_EN, by q-value
 * (ties: the first); q=0 refuses a language; "*" is def.  NULL, empty,
 * malformed or nothing we have: def.  Reads at most I18N_ACCEPT_MAX bytes
 * and I18N_ACCEPT_ITEMS items (a header is external input). */
#define I18N_ACCEPT_MAX 1024
#define I18N_ACCEPT_ITEMS 32
int i18n_lang_from_accept_or(const char *accept_language, int def);
/* The same with Vietnamese as the default (conventions: Vietnamese first). */
int i18n_lang_from_accept(const char *accept_language);
/* "vi" or "en" (a page's lang attribute); NULL for an unknown lang. */
const char *i18n_lang_code(int lang);

/* msgid in lang: its translation, or msgid itself (English, a word not
 * translated, an unknown lang, a damaged catalogue).  Never NULL for a
 * non-NULL msgid; the result lives as long as the process. */
const char *i18n_tr(int lang, const char *msgid);
/* The plural form for n: Vietnamese has one form (nplurals=1), English
 * two (msgid when n == 1, else msgid_plural). */
const char *i18n_ntr(int lang, const char *msgid, const char *msgid_plural, unsigned long n);

/* 0 when the embedded catalogue for lang is sound (magic, revision 0,
 * tables within the file, NUL-terminated strings), else -EINVAL.  English
 * needs none: 0. */
int i18n_check(int lang);

/* An alarm rule as people read it (what: a msgid, "temperature high") and
 * the unit of its value and limit ("°C", "" for none); NULL for a rule
 * without words (show the engine's message). */
struct i18n_rule_words {
	const char *rule, *what, *unit;
};
const struct i18n_rule_words *i18n_rule(const char *rule);

/* The words the web pages and notifications use (N_ marked, so they are
 * in po/coldchaind.pot before a page uses them); NULL-terminated. */
extern const char *const i18n_words[];

#endif
