/* log.c - logging to stderr or syslog.  Under systemd (JOURNAL_STREAM set)
 * stderr lines carry "<N>" priority prefixes instead of timestamps, so the
 * journal records the right priority. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "util.h"

static enum log_target target = LOG_TARGET_STDERR;
static enum log_level max_level = LOG_LVL_INFO;
static int under_journal;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_open(enum log_target t, enum log_level lvl)
{
	target = t;
	max_level = lvl;
	under_journal = getenv("JOURNAL_STREAM") != NULL;
	if (target == LOG_TARGET_SYSLOG)
		openlog("coldchaind", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level lvl)
{
	max_level = lvl;
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} names[] = {
		{ "error", LOG_LVL_ERR }, { "warning", LOG_LVL_WARN }, { "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return -1;
}

void log_close(void)
{
	if (target == LOG_TARGET_SYSLOG)
		closelog();
	target = LOG_TARGET_STDERR;
}

__attribute__((format(printf, 2, 0))) static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const lvlname[8] = { "", "", "", "error", "warning", "", "info", "debug" };
	char msg[1024];

	if (lvl > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (target == LOG_TARGET_SYSLOG) {
		syslog((int)lvl, "%s", msg);
		return;
	}
	pthread_mutex_lock(&log_lock);
	if (under_journal) {
		fprintf(stderr, "<%d>%s\n", (int)lvl, msg);
	} else {
		struct timespec ts;
		struct tm tm;
		char tbuf[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s: %s\n", tbuf, ts.tv_nsec / 1000000, lvlname[lvl], msg);
	}
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

int log_rl_allow(struct log_rl *rl, int64_t interval_ms, uint32_t *suppressed)
{
	int64_t now = time_mono_ms();

	if (rl->last_ms != 0 && now - rl->last_ms < interval_ms) {
		rl->suppressed++;
		return 0;
	}
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->last_ms = now;
	return 1;
}
