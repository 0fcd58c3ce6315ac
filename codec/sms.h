/* sms.h - the text of an SMS: which alphabet a text needs (GSM 7-bit
 * default alphabet or UCS-2), how many parts it takes, and the encodings the
 * AT command set's text mode uses for both.  Pure: no I/O, unit-tested. */
#ifndef CC_CODEC_SMS_H
#define CC_CODEC_SMS_H

#include <stddef.h>

enum sms_charset { SMS_GSM7, SMS_UCS2 };

/* Per part, without a user-data header: a text-mode SMS is one standalone
 * message (see sms.c on why text mode and not PDU mode). */
#define SMS_GSM7_MAX 160 /* septets */
#define SMS_UCS2_MAX 70  /* UTF-16 code units */
#define SMS_MAX_PARTS 10

/* 1 when every character of the UTF-8 text is in the GSM 7-bit default
 * alphabet or its extension table (3GPP TS 23.038); *septets (if not NULL)
 * gets the count, extension characters counting 2.  0 otherwise, also for
 * invalid UTF-8. */
int sms_is_gsm7(const char *utf8, size_t *septets);

/* The charset a text is sent in through AT+CMGF=1: GSM when sms_is_gsm7()
 * and no character needs a code a modem's text input cannot carry (0x00 '@',
 * 0x1A 'Ξ' is Ctrl-Z, 0x1B the extension escape cancels the input on most
 * modems); UCS-2 otherwise. */
enum sms_charset sms_charset_for(const char *utf8);

/* Length in the units of cs: septets (extension = 2) or UTF-16 code units
 * (a character outside the BMP = 2, a surrogate pair).  -1: invalid UTF-8. */
long sms_units(const char *utf8, enum sms_charset cs);

/* The parts of a message, each a NUL-terminated UTF-8 text of at most
 * SMS_GSM7_MAX / SMS_UCS2_MAX units of cs including its "(k/n) " prefix. */
struct sms_parts {
	enum sms_charset cs;
	size_t n;
	char *part[SMS_MAX_PARTS];
	int truncated; /* the text did not fit in max_parts: the last part ends with an ellipsis */
};

/* Splits utf8 at word boundaries (a word longer than a part is cut between
 * characters, never inside one) into at most max_parts (1..SMS_MAX_PARTS)
 * parts.  "\r\n" and "\r" become "\n".  Returns 0 or -EINVAL (invalid UTF-8,
 * max_parts out of range), -ENOMEM.  Free with sms_parts_free(). */
int sms_split(const char *utf8, int max_parts, struct sms_parts *out);
void sms_parts_free(struct sms_parts *p);

/* UTF-8 -> the bytes AT+CSCS="GSM" expects (one byte per septet, 0x1B before
 * an extension character).  Returns the length or -EINVAL (not GSM-7),
 * -ENOSPC. out is NUL-terminated. */
long sms_gsm_encode(const char *utf8, char *out, size_t n);
/* The reverse, for what a modem returns in "GSM" charset. */
long sms_gsm_decode(const char *gsm, size_t len, char *out, size_t n);

/* UTF-8 -> UTF-16BE as upper-case hex (AT+CSCS="UCS2").  Returns a malloc'd
 * string or NULL + errno (EINVAL: invalid UTF-8). */
char *sms_ucs2_hex(const char *utf8);
/* UCS-2/UTF-16BE hex -> UTF-8 (surrogate pairs joined).  Returns a malloc'd
 * string or NULL + errno (EINVAL: not hex, odd length, lone surrogate, NUL). */
char *sms_ucs2_unhex(const char *hex);

/* Whether the sender a modem reported is the E.164 number e164 ("+84987654321"),
 * spaces, dashes, dots and brackets ignored: 2 when written in full
 * ("+84987654321", "84987654321", "0084987654321"), 1 in the national form
 * of e164's own country ("0987654321": a trunk 0, then the last 6 or more
 * digits, e164's first 1 to 3 digits its country code), 0 otherwise. */
int sms_number_match(const char *e164, const char *reported);

#endif
