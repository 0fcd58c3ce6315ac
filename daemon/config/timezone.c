/* timezone.c - the root key timezone's check, in a file of its own: the
 * thin coldchainctl (ctl/thin.c) shows times in the daemon's zone and must
 * not link the configuration's tables to check a name. */
#include "../config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int config_check_timezone(const char *name)
{
	char path[PATH_MAX], magic[4];
	int fd, n;

	if (!name || !*name || name[0] == '/' || strstr(name, "..") ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != strlen(name))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name) >= (int)sizeof(path))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -ENOENT;
	n = (int)read(fd, magic, sizeof(magic));
	close(fd);
	return n == 4 && memcmp(magic, "TZif", 4) == 0 ? 0 : -ENOENT;
}
