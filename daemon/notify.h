/* notify.h - the systemd notification protocol (sd_notify(3)) in a few
 * careful lines: a datagram to $NOTIFY_SOCKET.  No libsystemd needed; a
 * no-op outside systemd. */
#ifndef CC_NOTIFY_H
#define CC_NOTIFY_H

#include <stdint.h>

/* Sends state ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...").
 * Returns 1 if sent, 0 when not under systemd, -errno on failure. */
int notify_send(const char *state);

/* The watchdog interval systemd asked for, in ms (WATCHDOG_USEC, honouring
 * WATCHDOG_PID), or 0 when there is none. */
int64_t notify_watchdog_ms(void);

#endif
