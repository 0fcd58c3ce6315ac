/* watch.h - `coldchainctl mqtt watch` (ctl/watch.c). */
#ifndef CC_CTL_WATCH_H
#define CC_CTL_WATCH_H

#include "ctl_opts.h"

/* The "mqtt" group and its subcommand watch, for coldchainctl's dispatch. */
extern const struct ctl_cmd ctl_mqtt_cmds[];

#endif
