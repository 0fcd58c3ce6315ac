/* modem.h - a GSM modem on a serial port (private to the sms transport,
 * outputs/sms.c: it runs on that output's thread, so it lives in outputs/,
 * which may not include drivers/), spoken to with AT commands
 * (3GPP TS 27.007 / 27.005 text mode): open it exclusively, bring it up
 * (echo off, numeric errors, SIM PIN, text mode), send an SMS, read signal,
 * registration and incoming messages.  Plain termios and poll(2), a deadline
 * on every command; one thread uses a modem at a time. */
#ifndef CC_OUTPUT_MODEM_H
#define CC_OUTPUT_MODEM_H

#include <stddef.h>
#include <stdint.h>

struct modem;

#define MODEM_LINE_MAX 512
#define MODEM_REPLY_LINES 64

enum modem_final { MODEM_OK, MODEM_ERROR, MODEM_CME_ERROR, MODEM_CMS_ERROR };

/* The information lines of one reply (echo and unsolicited result codes
 * removed) and its final result code. */
struct modem_reply {
	enum modem_final final;
	int code;                  /* n of +CME ERROR: n / +CMS ERROR: n, else -1 */
	size_t nlines;
	size_t dropped;            /* lines beyond MODEM_REPLY_LINES */
	char line[MODEM_REPLY_LINES][MODEM_LINE_MAX];
};

/* Opens device at baud (raw 8N1, no flow control), exclusively (flock and
 * TIOCEXCL: a second daemon or a stray minicom gets EBUSY).  wake_fd (or -1)
 * is polled beside the device: readable -> the command in progress returns
 * -EINTR.  NULL + errno. */
struct modem *modem_open(const char *device, int baud, int wake_fd);
void modem_close(struct modem *m);

/* Sends "cmd\r" and collects the reply until its final result code.
 * Returns 0 (see r->final), -ETIMEDOUT, -ENODEV (the device went away: close
 * and reopen), -EINTR (woken), -EIO. */
int modem_cmd(struct modem *m, const char *cmd, int64_t timeout_ms, struct modem_reply *r);

enum modem_sim { MODEM_SIM_UNKNOWN, MODEM_SIM_READY, MODEM_SIM_ABSENT, MODEM_SIM_LOCKED };

/* AT, ATE0, AT+CMEE=1, AT+CPIN? (and AT+CPIN=<pin> when it asks; the PIN is
 * never logged), AT+CMGF=1.  Returns 0, -EACCES (SIM absent, PIN refused or
 * missing, PUK needed: *sim says which; why says it in words) or a
 * modem_cmd() error. */
int modem_init(struct modem *m, const char *pin, int64_t timeout_ms, enum modem_sim *sim, char *why,
	       size_t n);

/* Selects AT+CSCS "GSM" (ucs2 = 0) or "UCS2" with AT+CSMP for data coding
 * scheme 8; does nothing if already selected. */
int modem_charset(struct modem *m, int ucs2, int64_t timeout_ms, struct modem_reply *r);

/* AT+CMGS="number" (hex UCS-2 in UCS-2 mode), waits for the "> " prompt,
 * writes payload (the bytes of the selected charset, or its hex), Ctrl-Z, and
 * waits for +CMGS: <mr> and OK within timeout_ms.  Returns 0 with *mr, or 0
 * with r->final an error (+CMS ERROR: r->code), or a modem_cmd() error. */
int modem_send(struct modem *m, const char *number, const char *payload, int64_t timeout_ms,
	       struct modem_reply *r, int *mr);

/* AT+CSQ: *dbm = -113 + 2 * rssi, or 1 when the modem does not know (99). */
int modem_signal(struct modem *m, int64_t timeout_ms, int *dbm);
/* AT+CREG?: *registered = 1 for home (1) or roaming (5). */
int modem_registered(struct modem *m, int64_t timeout_ms, int *registered);

/* One received SMS; text and number are UTF-8. */
typedef void (*modem_sms_fn)(void *arg, const char *number, const char *text);
/* Reads the stored messages (AT+CMGL="ALL" in UCS-2: a message read but
 * not deleted, after a crash, is read again rather than lost), calls fn for
 * each and deletes it (AT+CMGD).  Returns how many, or an error. */
int modem_read_sms(struct modem *m, int64_t timeout_ms, modem_sms_fn fn, void *arg);

/* Reads what the modem said unasked: 1 if a +CMTI (a new message) came
 * since the last call, 0 if not, or -ENODEV. */
int modem_new_sms(struct modem *m);

/* 1 if line is an unsolicited result code (+CMTI, RING, ^..., ...) rather
 * than part of the reply to cmd; exposed for the unit tests. */
int modem_is_urc(const char *line, const char *cmd);

#endif
