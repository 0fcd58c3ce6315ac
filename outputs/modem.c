/* modem.c - the AT dialogue with a GSM modem over termios: a line reader on
 * a non-blocking fd with a deadline per command, echo and unsolicited result
 * codes filtered out, the "> " prompt of AT+CMGS (which comes without a line
 * end), and the few commands an SMS output needs. */
#include "modem.h"

#include "../codec/sms.h"
#include "../daemon/log.h"
#include "../daemon/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

struct modem {
	int fd;
	int wake_fd;
	int cscs;     /* -1 unknown, 0 GSM, 1 UCS2 */
	int cmti;     /* a +CMTI (new message) was seen */
	size_t len;
	char buf[4096];
};

static speed_t baud_speed(int baud)
{
	switch (baud) {
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 230400: return B230400;
	case 460800: return B460800;
	case 921600: return B921600;
	default: return B115200;
	}
}

struct modem *modem_open(const char *device, int baud, int wake_fd)
{
	struct termios tio;
	struct modem *m;
	int fd = open(device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), e;
	if (fd < 0)
		return NULL;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || ioctl(fd, TIOCEXCL) < 0) {
		e = errno == EWOULDBLOCK ? EBUSY : errno;
		goto fail;
	}
	if (tcgetattr(fd, &tio) < 0) {
		e = errno;
		goto fail;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(tcflag_t)CRTSCTS;
	tio.c_cc[VMIN] = 1; /* with O_NONBLOCK: EAGAIN when empty; VMIN 0 would read 0, like a hang-up */
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, baud_speed(baud));
	cfsetospeed(&tio, baud_speed(baud));
	if (tcsetattr(fd, TCSANOW, &tio) < 0) {
		e = errno;
		goto fail;
	}
	if (!(m = calloc(1, sizeof *m))) {
		e = ENOMEM;
		goto fail;
	}
	m->fd = fd;
	m->wake_fd = wake_fd;
	m->cscs = -1;
	return m;
fail:
	close(fd);
	errno = e;
	return NULL;
}

void modem_close(struct modem *m)
{
	if (!m)
		return;
	close(m->fd);
	free(m);
}

/* Waits for bytes until deadline and appends them to the buffer. */
static int read_more(struct modem *m, int64_t deadline)
{
	struct pollfd p[2] = { { m->fd, POLLIN, 0 }, { m->wake_fd, POLLIN, 0 } };
	int64_t left = deadline - time_mono_ms();
	ssize_t n;
	int r;
	if (left <= 0)
		return -ETIMEDOUT;
	r = poll(p, m->wake_fd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (m->wake_fd >= 0 && (p[1].revents & POLLIN))
		return -EINTR;
	if (r == 0)
		return 0;
	if (!(p[0].revents & POLLIN))
		return -ENODEV; /* POLLHUP/POLLERR: unplugged */
	if (m->len == sizeof m->buf)
		m->len = 0; /* 4 KiB without a line end: garbage, not a reply */
	n = read(m->fd, m->buf + m->len, sizeof m->buf - m->len);
	if (n > 0) {
		m->len += (size_t)n;
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -ENODEV;
}

static void consume(struct modem *m, size_t k)
{
	memmove(m->buf, m->buf + k, m->len - k);
	m->len -= k;
}

/* Next non-empty line into out: 1; the "> " prompt (only if prompt_ok): 2;
 * or an error. */
static int next_line(struct modem *m, int64_t deadline, int prompt_ok, char *out, size_t n)
{
	for (;;) {
		size_t i = 0;
		int r;
		while (i < m->len && (m->buf[i] == '\r' || m->buf[i] == '\n'))
			i++;
		consume(m, i);
		if (prompt_ok && m->len >= 1 && m->buf[0] == '>') {
			consume(m, m->len >= 2 && m->buf[1] == ' ' ? 2 : 1);
			return 2;
		}
		for (i = 0; i < m->len; i++) {
			if (m->buf[i] == '\r' || m->buf[i] == '\n') {
				size_t k = i < n - 1 ? i : n - 1;
				memcpy(out, m->buf, k);
				out[k] = 0;
				consume(m, i);
				return 1;
			}
		}
		if ((r = read_more(m, deadline)) < 0)
			return r;
	}
}

int modem_is_urc(const char *line, const char *cmd)
{
	static const char *const urc[] = { "+CMTI:", "+CDSI:", "+CMT:", "+CDS:", "+CBM:", "RING",
					   "+CRING:", "+CLIP:", "^", "+CGREG:", "+CEREG:",
					   "+CUSD:", "NO CARRIER", "+PACSP", "+QIND:", "*PSUTTZ" };
	size_t i;
	if (strncmp(line, "+CREG:", 6) == 0)
		return !cmd || strncmp(cmd, "AT+CREG", 7) != 0;
	for (i = 0; i < sizeof urc / sizeof urc[0]; i++)
		if (strncmp(line, urc[i], strlen(urc[i])) == 0)
			return 1;
	return 0;
}

/* Reads lines into r until a final result code. */
static int collect(struct modem *m, const char *cmd, int64_t deadline, struct modem_reply *r)
{
	char line[MODEM_LINE_MAX];
	int rc;
	while ((rc = next_line(m, deadline, 0, line, sizeof line)) > 0) {
		if (cmd && strcmp(line, cmd) == 0)
			continue; /* echo */
		if (strcmp(line, "OK") == 0) {
			r->final = MODEM_OK;
			return 0;
		}
		if (strcmp(line, "ERROR") == 0) {
			r->final = MODEM_ERROR;
			return 0;
		}
		if (strncmp(line, "+CME ERROR:", 11) == 0 || strncmp(line, "+CMS ERROR:", 11) == 0) {
			r->final = line[3] == 'E' ? MODEM_CME_ERROR : MODEM_CMS_ERROR;
			r->code = (int)strtol(line + 11, NULL, 10);
			return 0;
		}
		if (strncmp(line, "+CMTI:", 6) == 0)
			m->cmti = 1;
		if (modem_is_urc(line, cmd)) {
			log_debug("modem: unsolicited %.40s", line);
			continue;
		}
		if (r->nlines < MODEM_REPLY_LINES)
			strcpy(r->line[r->nlines++], line);
		else
			r->dropped++;
	}
	return rc;
}

static int write_all(struct modem *m, const char *s, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t w = write(m->fd, s, n);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { m->fd, POLLOUT, 0 };
			int64_t left = deadline - time_mono_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			(void)poll(&p, 1, (int)(left > 1000 ? 1000 : left));
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		return -ENODEV;
	}
	return 0;
}

/* Throws away what arrived since the last command (URCs, a late reply to a
 * command that timed out) so it cannot be taken for this one's reply. */
static int flush_input(struct modem *m)
{
	char junk[512];
	ssize_t n;
	if (memmem(m->buf, m->len, "+CMTI:", 6))
		m->cmti = 1;
	m->len = 0;
	while ((n = read(m->fd, junk, sizeof junk)) > 0)
		if (memmem(junk, (size_t)n, "+CMTI:", 6))
			m->cmti = 1; /* a URC split across two reads is caught by the periodic listing */
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -ENODEV;
	return 0;
}

int modem_new_sms(struct modem *m)
{
	int rc = flush_input(m), seen = m->cmti;
	m->cmti = 0;
	return rc < 0 ? rc : seen;
}

static int start_cmd(struct modem *m, const char *cmd, int64_t deadline, struct modem_reply *r)
{
	char line[MODEM_LINE_MAX + 2];
	int rc, k;
	memset(r, 0, offsetof(struct modem_reply, line));
	r->code = -1;
	if ((rc = flush_input(m)) < 0)
		return rc;
	k = snprintf(line, sizeof line, "%s\r", cmd);
	if (k < 0 || (size_t)k >= sizeof line)
		return -EMSGSIZE;
	return write_all(m, line, (size_t)k, deadline);
}

int modem_cmd(struct modem *m, const char *cmd, int64_t timeout_ms, struct modem_reply *r)
{
	int64_t deadline = time_mono_ms() + timeout_ms;
	int rc = start_cmd(m, cmd, deadline, r);
	return rc < 0 ? rc : collect(m, cmd, deadline, r);
}

/* A command that must answer OK; anything else is -EPROTO. */
static int cmd_ok(struct modem *m, const char *cmd, int64_t timeout_ms, struct modem_reply *r)
{
	int rc = modem_cmd(m, cmd, timeout_ms, r);
	if (rc < 0)
		return rc;
	return r->final == MODEM_OK ? 0 : -EPROTO;
}

static const char *reply_find(const struct modem_reply *r, const char *prefix)
{
	size_t i;
	for (i = 0; i < r->nlines; i++)
		if (strncmp(r->line[i], prefix, strlen(prefix)) == 0)
			return r->line[i] + strlen(prefix);
	return NULL;
}

/* AT+CPIN? and, if the SIM asks for it, the PIN. */
static int init_sim(struct modem *m, const char *pin, int64_t tmo, struct modem_reply *r,
		    enum modem_sim *sim, char *why, size_t n)
{
	char cmd[64];
	const char *st;
	int rc, tries;
	for (tries = 0; tries < 2; tries++) {
		if ((rc = modem_cmd(m, "AT+CPIN?", tmo, r)) < 0)
			return rc;
		if (r->final == MODEM_CME_ERROR && (r->code == 10 || r->code == 13)) {
			*sim = MODEM_SIM_ABSENT;
			snprintf(why, n, "no SIM (+CME ERROR: %d)", r->code);
			return -EACCES;
		}
		st = reply_find(r, "+CPIN:");
		if (r->final != MODEM_OK || !st) {
			snprintf(why, n, "AT+CPIN? answered %s %d", r->final == MODEM_OK ? "OK without +CPIN" : "an error", r->code);
			return -EPROTO;
		}
		while (*st == ' ')
			st++;
		if (strcmp(st, "READY") == 0) {
			*sim = MODEM_SIM_READY;
			return 0;
		}
		*sim = MODEM_SIM_LOCKED;
		if (strcmp(st, "SIM PIN") != 0 || tries > 0 || !pin || !*pin) {
			snprintf(why, n, "SIM is locked (%.32s)%s", st,
				 strcmp(st, "SIM PIN") == 0 && (!pin || !*pin) ? ": set pin_file" : "");
			return -EACCES;
		}
		if (strlen(pin) > 16 || strspn(pin, "0123456789") != strlen(pin)) {
			snprintf(why, n, "the PIN in pin_file is not 4 to 8 digits");
			return -EACCES;
		}
		snprintf(cmd, sizeof cmd, "AT+CPIN=\"%s\"", pin);
		rc = modem_cmd(m, cmd, tmo, r);
		explicit_bzero(cmd, sizeof cmd);
		if (rc < 0)
			return rc;
		if (r->final != MODEM_OK) {
			/* not retried: three wrong PINs lock the SIM behind its PUK */
			snprintf(why, n, "SIM refused the PIN from pin_file (+CME ERROR: %d); not retried", r->code);
			return -EACCES;
		}
	}
	return 0;
}

int modem_init(struct modem *m, const char *pin, int64_t tmo, enum modem_sim *sim, char *why, size_t n)
{
	struct modem_reply *r = malloc(sizeof *r);
	int rc, i;
	*sim = MODEM_SIM_UNKNOWN;
	snprintf(why, n, "modem does not answer AT");
	if (!r)
		return -ENOMEM;
	/* ESC cancels a "> " prompt a previous run may have left open. */
	if ((rc = write_all(m, "\x1B\r", 2, time_mono_ms() + tmo)) < 0)
		goto out;
	for (i = 0; i < 3; i++)
		if ((rc = cmd_ok(m, "AT", tmo / 3 + 1, r)) != -ETIMEDOUT)
			break;
	if (rc < 0)
		goto out;
	snprintf(why, n, "modem refused the set-up");
	if ((rc = cmd_ok(m, "ATE0", tmo, r)) < 0 || (rc = cmd_ok(m, "AT+CMEE=1", tmo, r)) < 0)
		goto out;
	if ((rc = init_sim(m, pin, tmo, r, sim, why, n)) < 0)
		goto out;
	snprintf(why, n, "modem refused text mode (AT+CMGF=1)");
	if ((rc = cmd_ok(m, "AT+CMGF=1", tmo, r)) < 0)
		goto out;
	m->cscs = -1;
	why[0] = 0;
out:
	free(r);
	return rc;
}

int modem_charset(struct modem *m, int ucs2, int64_t tmo, struct modem_reply *r)
{
	int rc;
	if (m->cscs == ucs2)
		return 0;
	m->cscs = -1;
	if ((rc = cmd_ok(m, ucs2 ? "AT+CSCS=\"UCS2\"" : "AT+CSCS=\"GSM\"", tmo, r)) < 0)
		return rc;
	/* first octet 17 (SMS-SUBMIT, relative validity), 167 (24 h), PID 0, DCS 8 = UCS-2 or 0 = GSM 7-bit */
	if ((rc = cmd_ok(m, ucs2 ? "AT+CSMP=17,167,0,8" : "AT+CSMP=17,167,0,0", tmo, r)) < 0)
		return rc;
	m->cscs = ucs2;
	return 0;
}

int modem_send(struct modem *m, const char *number, const char *payload, int64_t tmo,
	       struct modem_reply *r, int *mr)
{
	int64_t deadline = time_mono_ms() + tmo;
	char cmd[MODEM_LINE_MAX], line[MODEM_LINE_MAX], *hex = NULL;
	const char *v;
	int rc;
	if (m->cscs == 1 && !(hex = sms_ucs2_hex(number)))
		return -errno;
	rc = snprintf(cmd, sizeof cmd, "AT+CMGS=\"%s\"", hex ? hex : number);
	free(hex);
	if (rc < 0 || (size_t)rc >= sizeof cmd)
		return -EMSGSIZE;
	if ((rc = start_cmd(m, cmd, deadline, r)) < 0)
		return rc;
	for (;;) {
		if ((rc = next_line(m, deadline, 1, line, sizeof line)) < 0)
			return rc;
		if (rc == 2)
			break;
		if (strcmp(line, "ERROR") == 0 || strncmp(line, "+CMS ERROR:", 11) == 0 ||
		    strncmp(line, "+CME ERROR:", 11) == 0) {
			r->final = line[1] == 'C' && line[3] == 'E' ? MODEM_CME_ERROR
				 : line[0] == '+' ? MODEM_CMS_ERROR : MODEM_ERROR;
			r->code = line[0] == '+' ? (int)strtol(line + 11, NULL, 10) : -1;
			return 0;
		}
	}
	if ((rc = write_all(m, payload, strlen(payload), deadline)) < 0 ||
	    (rc = write_all(m, "\x1A", 1, deadline)) < 0 || (rc = collect(m, NULL, deadline, r)) < 0)
		return rc;
	v = reply_find(r, "+CMGS:");
	*mr = v ? (int)strtol(v, NULL, 10) : -1;
	if (r->final == MODEM_OK && !v)
		r->final = MODEM_ERROR;
	return 0;
}

int modem_signal(struct modem *m, int64_t tmo, int *dbm)
{
	struct modem_reply *r = malloc(sizeof *r);
	const char *v;
	int rc, rssi;
	if (!r)
		return -ENOMEM;
	if ((rc = cmd_ok(m, "AT+CSQ", tmo, r)) == 0) {
		if (!(v = reply_find(r, "+CSQ:")))
			rc = -EPROTO;
		else if ((rssi = (int)strtol(v, NULL, 10)) >= 0 && rssi <= 31)
			*dbm = -113 + 2 * rssi;
		else
			*dbm = 1;
	}
	free(r);
	return rc;
}

int modem_registered(struct modem *m, int64_t tmo, int *registered)
{
	struct modem_reply *r = malloc(sizeof *r);
	const char *v;
	int rc, st;
	if (!r)
		return -ENOMEM;
	if ((rc = cmd_ok(m, "AT+CREG?", tmo, r)) == 0) {
		if (!(v = reply_find(r, "+CREG:")) || !(v = strchr(v, ',')))
			rc = -EPROTO;
		else
			st = (int)strtol(v + 1, NULL, 10), *registered = st == 1 || st == 5;
	}
	free(r);
	return rc;
}

/* The k-th (0-based) comma-separated field of s, quotes removed. */
static int field(const char *s, int k, char *out, size_t n)
{
	size_t o = 0;
	int q = 0;
	for (; *s && k >= 0; s++) {
		if (*s == '"')
			q = !q;
		else if (*s == ',' && !q)
			k--;
		else if (k == 0 && o + 1 < n)
			out[o++] = *s;
	}
	out[o] = 0;
	return k <= 0 ? 0 : -1;
}

/* A text-mode field in UCS-2 hex, or as is when it is not hex (a modem that
 * leaves the number or a GSM-7 text in plain characters). */
static char *unhex_or_copy(const char *s)
{
	char *u = sms_ucs2_unhex(s);
	return u && *s ? u : (free(u), strdup(s));
}

int modem_read_sms(struct modem *m, int64_t tmo, modem_sms_fn fn, void *arg)
{
	struct modem_reply *r = malloc(sizeof *r), *d = malloc(sizeof *r);
	int rc, count = 0;
	size_t i;
	if (!r || !d) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = modem_charset(m, 1, tmo, r)) < 0 || (rc = cmd_ok(m, "AT+CMGL=\"ALL\"", tmo, r)) < 0)
		goto out;
	for (i = 0; i + 1 < r->nlines; i++) {
		char idx[16], num[128], cmd[32], *t, *nb;
		if (strncmp(r->line[i], "+CMGL:", 6) != 0)
			continue;
		field(r->line[i] + 6, 0, idx, sizeof idx);
		field(r->line[i] + 6, 2, num, sizeof num);
		t = unhex_or_copy(r->line[i + 1]);
		nb = unhex_or_copy(num);
		if (t && nb)
			fn(arg, nb, t), count++;
		free(t);
		free(nb);
		snprintf(cmd, sizeof cmd, "AT+CMGD=%d", atoi(idx));
		if ((rc = modem_cmd(m, cmd, tmo, d)) < 0)
			goto out;
		i++;
	}
	rc = count;
out:
	free(r);
	free(d);
	return rc;
}
