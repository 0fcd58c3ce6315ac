/* ctl_socket.h - coldchainctl's operator commands (status, alarms, ack,
 * shelve, unshelve, reset, lot, reload) over the daemon's control socket,
 * and `mqtt watch`.  Exit status: 0 done, 1 refused by the daemon or not
 * found, 2 usage error, 3 the daemon (or the broker) not reachable. */
#ifndef CC_CTL_SOCKET_H
#define CC_CTL_SOCKET_H

#define CTL_EXIT_OK 0
#define CTL_EXIT_REFUSED 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_UNREACHABLE 3

/* argv[0] is the command ("status", "lot", ...).  1 when argv[0] is not
 * one of ours is impossible: the caller dispatches only these. */
int ctl_socket_main(int argc, char **argv);
/* argv[0] is "watch" (after "mqtt"). */
int ctl_mqtt_watch(int argc, char **argv);
/* The usage lines of these commands. */
extern const char ctl_socket_usage[];

#endif
