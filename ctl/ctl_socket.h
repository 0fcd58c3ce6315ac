/* ctl_socket.h - coldchainctl's operator commands (status, alarms, ack,
 * shelve, unshelve, reset, lot, reload) over the daemon's control socket,
 * and `mqtt watch`.  Exit status: 0 done, 1 refused by the daemon or not
 * found, 2 usage error, 3 the daemon (or the broker) not reachable. */
#ifndef CC_CTL_SOCKET_H
#define CC_CTL_SOCKET_H

#include "ctl_opts.h"

#define CTL_EXIT_OK 0
#define CTL_EXIT_REFUSED 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_UNREACHABLE 3

/* These commands, for coldchainctl's dispatch (ctl_opts.h): the socket
 * commands take their options anywhere, so `lot` finds its subcommand
 * (load, unload, move) itself, after them. */
extern const struct ctl_cmd ctl_socket_cmds[];
/* For the completion: the names of kind ("ID": the active alarms, "LOT",
 * "ROOM", "BATCH") that start with prefix, one a line on out, from the
 * daemon at --socket sock or the one of config conf (either may be NULL:
 * the defaults), waiting at most a second.  Nothing when it does not answer
 * (messages go to stderr, which the caller silences). */
void ctl_socket_names(const char *kind, const char *conf, const char *sock, const char *prefix, FILE *out);

/* The control socket configuration conf names (control.socket, else under
 * state_dir): 0 with *out allocated, or -1 with the reason printed when
 * loud (else silently: the caller falls back to the default socket).
 * Linked in from one of two files: ctl/conf_socket.c (coldchainctl-full)
 * reads conf; ctl/thin.c (the thin coldchainctl, which must not link the
 * configuration's tables) hands the whole command to coldchainctl-full. */
int ctl_conf_socket(const char *conf, int loud, char **out);

#endif
