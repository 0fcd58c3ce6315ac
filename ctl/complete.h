/* complete.h - `coldchainctl __complete WORD...`, what the bash completion
 * (contrib/bash-completion/coldchainctl) asks: the words after
 * "coldchainctl" up to the one being completed (the last, maybe empty). */
#ifndef CC_CTL_COMPLETE_H
#define CC_CTL_COMPLETE_H

#include "ctl_opts.h"

/* Prints the candidates for the last word, one a line, on stdout: command
 * and subcommand names, options (from the rows' opts), fixed choices
 * ("html|csv"), names from the running daemon (ID, LOT, ROOM, BATCH), or
 * the single line "__files__" when a file name is wanted.  roots: command
 * tables, NULL-terminated.  Always 0; stderr is silenced. */
int ctl_complete(const struct ctl_cmd *const *roots, int argc, char **argv);

#endif
