/* transport.h - the contract between the notification core (outputs/
 * channel.c: routing, rendering, per-recipient progress, quiet hours,
 * digests, escalation chains) and a channel's transport, one file per kind
 * (outputs/smtp.c, telegram.c, zalo.c, sms.c).  A transport knows how to
 * put one finished text in front of one address; it knows nothing of
 * alarms, routes or languages.  Private to outputs/ and its tests. */
#ifndef CC_OUTPUT_TRANSPORT_H
#define CC_OUTPUT_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct lp_buf;

/* One rendered message for one recipient. */
struct transport_msg {
	const char *subject;  /* e-mail's Subject (UTF-8); others ignore it */
	const char *text;     /* UTF-8 plain text, complete (the transport splits it if it must) */
	const char *alarm_id; /* NULL for tests and digests */
	int critical;
};

/* What a send did. */
enum transport_status {
	TR_OK,        /* accepted by the server / the modem */
	TR_RETRY,     /* transient (network, 5xx, 429, modem busy): retry later, retry_after_ms if the peer said */
	TR_AUTH,      /* credentials refused (after a refresh where the API has one): needs an operator */
	TR_REFUSED,   /* this address will never work (unknown chat, invalid number): skip it, logged and counted */
};

struct transport_result {
	enum transport_status status;
	int64_t retry_after_ms;
	char error[256];      /* what the peer said, for the log: never a secret */
};

/* A reply a person sent back ("OK 7f3a…"); the core acknowledges the alarm
 * as the recipient whose address it came from. */
typedef void (*transport_reply_fn)(void *arg, const char *address, const char *text);

struct transport_ops {
	const char *kind;     /* "email", "telegram", "zalo", "sms": the recipient field it uses */
	/* Sends m to address; runs on the output's thread, may block up to the
	 * channel's timeout.  r is zeroed by the caller. */
	void (*send)(void *t, const char *address, const struct transport_msg *m, struct transport_result *r);
	/* optional: collects replies since the last call, without blocking
	 * longer than the channel's timeout; returns how many, or -errno. */
	int (*poll_replies)(void *t, transport_reply_fn fn, void *arg);
	/* optional: health fields for the self-metrics (a modem's signal, SIM) */
	void (*stats)(void *t, struct lp_buf *b, const char *output, const char *site, int64_t ts_ns);
	/* optional: 1 when healthy, else 0 with a reason (for /healthz) */
	int (*healthy)(void *t, char *why, size_t n);
	/* optional: cut a blocked send short (output_stop, from another thread) */
	void (*wakeup)(void *t);
	void (*free)(void *t);
};

/* The transports; each returns NULL + errno on failure to set up. */
struct cc_email_conf;
struct cc_telegram_conf;
struct cc_zalo_conf;
struct cc_sms_conf;
void *transport_smtp_new(const struct cc_email_conf *c, const char *state_dir);
void *transport_telegram_new(const struct cc_telegram_conf *c, const char *state_dir);
void *transport_zalo_new(const struct cc_zalo_conf *c, const char *state_dir);
void *transport_sms_new(const struct cc_sms_conf *c, const char *state_dir);
extern const struct transport_ops transport_smtp_ops, transport_telegram_ops, transport_zalo_ops,
	transport_sms_ops;

#endif
