/* log.h - the one logging API of coldchaind.
 * Messages go to stderr (with a timestamp, or with sd-daemon "<N>" priority
 * prefixes under systemd) or to syslog.  Every message names its subject. */
#ifndef CC_LOG_H
#define CC_LOG_H

#include <stdint.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

void log_open(enum log_target target, enum log_level max_level);
void log_set_level(enum log_level max_level);
int log_level_parse(const char *s, enum log_level *out);
void log_close(void);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Only before start-up completes: logs and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Rate limiting for repeated failures.  A caller keeps one struct log_rl per
 * subject (a unit, an output).  log_rl_allow() returns 1 when a message may be
 * logged now (at most one per interval_ms), and stores in *suppressed how many
 * were swallowed since the last one, so the message can say "(N more)".
 */
struct log_rl {
	int64_t last_ms;
	uint32_t suppressed;
};
int log_rl_allow(struct log_rl *rl, int64_t interval_ms, uint32_t *suppressed);

#endif
