/* conf_socket.c - ctl_conf_socket() of coldchainctl-full (ctl_socket.h):
 * the socket from the configuration file, when the daemon's run file does
 * not say it (no daemon, or the files changed since it read them). */
#include "ctl_socket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "../daemon/config.h"
#include "../daemon/util.h"

int ctl_conf_socket(const char *conf, int loud, char **out)
{
	struct cc_config *cfg = NULL;
	struct cc_errors e = { 0 };
	int rc;

	/* two keys, not the whole file: a hub's configuration is megabytes */
	rc = config_peek_socket(conf, out, &e);
	if (rc == -ENOENT) {
		errors_free(&e);
		rc = config_load(conf, &cfg, &e);
		if (rc == 0)
			*out = xstrdup(cfg->control.socket);
		config_free(cfg);
	}
	if (rc < 0 && loud)
		errors_print(&e, stderr);
	errors_free(&e);
	return rc < 0 ? -1 : 0;
}
