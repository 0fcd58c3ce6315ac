/* ctl_opts.h - what coldchainctl's parsers share: the command tables
 * (`coldchainctl CMD [SUBCMD]` is looked up, never strcmp-chained), the
 * name of an option taken from the option table (never by arithmetic on
 * argv), strict numbers, and one wording for a bad option (exit status 2,
 * usage). */
#ifndef CC_CTL_OPTS_H
#define CC_CTL_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* A row of a command table (tables end with a row whose name is NULL): a
 * command with subcommands, or one run with argv[0] = its own name (a row
 * may have both: run then dispatches its subcommands itself, after options).
 * usage (the arguments) and help (what it does; may hold "\n      " for more
 * lines) are what ctl_cmd_usage() and `--help` print.  opts: the options it
 * takes, space separated, "=" after one that takes a value ("--note= --json");
 * `--help`, the man page check and the bash completion come from these rows.
 * In usage, an option's value and each operand is named in capitals, and
 * the completion offers by that name: ID (an active alarm), LOT, ROOM, BATCH
 * (from the running daemon), FILE, PATH, CONFIG (file names). */
#define CTL_OWN_HELP 1u /* run answers --help itself (with more than the row) */
struct ctl_cmd {
	const char *name;
	const struct ctl_cmd *sub;
	int (*run)(int argc, char **argv);
	const char *usage, *help;
	const char *opts;
	unsigned flags;
};

/* The row named name, or NULL. */
const struct ctl_cmd *ctl_cmd_find(const struct ctl_cmd *table, const char *name);

/* "  PREFIXNAME USAGE\n      HELP\n", for every row with a usage (the rows
 * of a subcommand table under "PREFIXNAME "). */
void ctl_cmd_usage(FILE *f, const struct ctl_cmd *table, const char *prefix);
void ctl_usage_line(FILE *f, const char *prefix, const char *name, const char *usage, const char *help);

/* `coldchainctl CMD` without its subcommand: prints "PROG: CMD needs a
 * command: A, B" and their usage on stderr; returns 2. */
int ctl_cmd_missing(const char *prog, const struct ctl_cmd *cmd);

/* `coldchainctl PATH --help`: the usage of row c (path: "lot move"), its
 * options, or a group's subcommands, on f. */
void ctl_cmd_help(FILE *f, const char *path, const struct ctl_cmd *c);

/* The row that argv[0] names in one of the tables of roots (NULL ended),
 * followed into the subcommands named after it (at most to argv[*depth -
 * 1]); path gets its words ("lot move").  NULL: argv[0] names no command. */
const struct ctl_cmd *ctl_resolve(const struct ctl_cmd *const *roots, int argc, char **argv, int *depth, char *path,
				  size_t n);

/* Runs `coldchainctl argv[1] ...` from the tables of roots: the command,
 * its --help, or the usage of a group without its subcommand.  The exit
 * status, or -1 when argv[1] names no command (argc >= 2). */
int ctl_dispatch(const struct ctl_cmd *const *roots, int argc, char **argv);

/* 1 when argv[1..argc) holds -h or --help (before any "--"). */
int ctl_wants_help(int argc, char **argv);

/* The option getopt_long() just returned: "--count" (longindex set by
 * getopt_long, -1 before the call) or "-c".  Written into buf. */
const char *ctl_opt_name(const struct option *lo, int longindex, int c, char *buf, size_t n);

/* getopt_long() returned '?' or ':' (the option string starts with ':',
 * after any '+'): prints "PROG: option --count needs a value", "...: unknown
 * option --nonesuch" or "...: option --json takes no value".  Returns 2. */
int ctl_opt_refused(const char *prog, const struct option *lo, int c, char *const argv[]);

/* Prints "PROG: invalid value for NAME: 'VALUE' (WHY)" and returns 2.  The
 * value is shown as given, at most 200 bytes. */
int ctl_opt_invalid(const char *prog, const char *name, const char *value, const char *why);

/* A whole integer in [lo, hi], decimal or 0x hex: nothing before or after
 * it, never octal.  0, -EINVAL (not a number) or -ERANGE (out of [lo, hi]). */
int ctl_parse_long(const char *s, long lo, long hi, long *out);

#endif
