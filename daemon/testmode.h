/* testmode.h - `coldchaind --test`: poll every Modbus point once and listen
 * to MQTT for a while, printing on stdout the line protocol the daemon would
 * write, sorted by time; the failures on stderr. */
#ifndef CC_TESTMODE_H
#define CC_TESTMODE_H

#include <stdint.h>

struct cc_config;

/* Returns the exit status: 0 when every read succeeded (and the MQTT broker,
 * if any, was reached within duration_ms), 1 otherwise, each failure said on
 * stderr.  Logging must be open. */
int testmode_run(const struct cc_config *cfg, int64_t duration_ms);

#endif
