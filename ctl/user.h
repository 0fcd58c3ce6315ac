/* user.h - `coldchainctl user add|del|list`: the web page's users file
 * (daemon/web/auth.h), written atomically with mode 0600. */
#ifndef CC_CTL_USER_H
#define CC_CTL_USER_H

#include "ctl_opts.h"

/* The default users file (the web group's users_file default). */
#include "../daemon/paths.h"
#define CTL_USERS_FILE CC_SYSCONFDIR "/coldchaind/users"

extern const struct ctl_cmd ctl_user_cmds[];

#endif
