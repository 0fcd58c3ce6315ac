/* smtp.h - the e-mail transport's pure parts (outputs/smtp.c), open to the
 * unit tests: the address check and the RFC 5322 message it sends.  The
 * transport itself is transport_smtp_new/transport_smtp_ops (transport.h). */
#ifndef CC_OUTPUT_SMTP_H
#define CC_OUTPUT_SMTP_H

#include <stddef.h>
#include <stdint.h>

struct transport_msg;

/* Bounds: an address (RFC 5321's path limit), a subject, a body. */
#define SMTP_ADDR_MAX 254
#define SMTP_SUBJECT_MAX 998
#define SMTP_TEXT_MAX (256 * 1024)

/* 1 when s is one bare address (local@domain): printable ASCII, no space,
 * CR, LF, '<', '>', ',', '"' or '\\', exactly one '@'; else 0. */
int smtp_address_ok(const char *s);

/* The angle address and the domain of a From value ("Name <a@b.vn>" or
 * "a@b.vn") into addr/domain; 0, or -EINVAL when it is not one address or
 * holds CR/LF. */
int smtp_from_parse(const char *from, char *addr, size_t na, char *domain, size_t nd);

/* The whole message (headers + quoted-printable body, CRLF line ends) for
 * one recipient, malloc'd into *out; date_s is the Date in Unix seconds,
 * msgid the Message-ID without brackets.  0, or -EINVAL when the subject
 * or an address holds CR/LF or a bound is passed. */
int smtp_message_build(const char *from, const char *to, const struct transport_msg *m, int64_t date_s,
		       const char *msgid, char **out, size_t *len);

#endif
