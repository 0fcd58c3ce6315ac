/* paths.h - the compiled-in default paths, from the Makefile's directory
 * variables (SYSCONFDIR, LOCALSTATEDIR, RUNSTATEDIR, DATADIR, LIBEXECDIR), so the
 * binaries, the unit, the man pages and the installed config agree. */
#ifndef CC_PATHS_H
#define CC_PATHS_H

#ifndef CC_SYSCONFDIR
#define CC_SYSCONFDIR "/etc"
#endif
#ifndef CC_LOCALSTATEDIR
#define CC_LOCALSTATEDIR "/var"
#endif
#ifndef CC_RUNSTATEDIR
#define CC_RUNSTATEDIR "/run"
#endif
#ifndef CC_DATADIR
#define CC_DATADIR "/usr/local/share"
#endif
#ifndef CC_LIBEXECDIR
#define CC_LIBEXECDIR "/usr/local/libexec"
#endif

#define CC_CONF_FILE CC_SYSCONFDIR "/coldchaind/coldchaind.conf"
#define CC_STATE_DIR CC_LOCALSTATEDIR "/lib/coldchaind"
#define CC_RUN_DIR CC_RUNSTATEDIR "/coldchaind"
#define CC_SOCKET_FILE CC_RUN_DIR "/coldchaind.sock"
/* what the thin coldchainctl runs for every command but the control
 * socket's (ctl/thin.c) */
#define CC_CTL_FULL CC_LIBEXECDIR "/coldchaind/coldchainctl-full"

#endif
