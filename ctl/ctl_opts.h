/* ctl_opts.h - what coldchainctl's option parsers share: the name of an
 * option taken from the option table (never by arithmetic on argv), strict
 * numbers, and one wording for a bad option (exit status 2, usage). */
#ifndef CC_CTL_OPTS_H
#define CC_CTL_OPTS_H

#include <getopt.h>
#include <stddef.h>

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
