/* ctl_opts.c - coldchainctl's command tables and shared option handling
 * (see ctl_opts.h).
 * Every message names the option from the option table: getopt_long()
 * leaves optind pointing past a separate value, so argv[optind - 1] is the
 * value there, not the option. */
#include "ctl_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct option *by_val(const struct option *lo, int val)
{
	for (; lo->name; lo++)
		if (lo->val == val && !lo->flag)
			return lo;
	return NULL;
}

const char *ctl_opt_name(const struct option *lo, int longindex, int c, char *buf, size_t n)
{
	if (longindex >= 0)
		snprintf(buf, n, "--%s", lo[longindex].name);
	else if (c > 0 && c < 128 && isgraph(c))
		snprintf(buf, n, "-%c", c);
	else
		snprintf(buf, n, "(option %d)", c);
	return buf;
}

int ctl_opt_refused(const char *prog, const struct option *lo, int c, char *const argv[])
{
	/* As typed, for telling "--count" from "-c"; getopt has moved optind
	 * past it in every case read here (an unknown short option inside a
	 * cluster aside, and there optopt names it). */
	const char *typed = optind > 0 ? argv[optind - 1] : "";
	const struct option *o = optopt ? by_val(lo, optopt) : NULL;
	int is_long = strncmp(typed, "--", 2) == 0;

	if (c == ':') {
		if (o && is_long)
			fprintf(stderr, "%s: option --%s needs a value\n", prog, o->name);
		else
			fprintf(stderr, "%s: option -%c needs a value\n", prog, optopt);
	} else if (optopt && o && is_long && o->has_arg == no_argument) {
		fprintf(stderr, "%s: option --%s takes no value\n", prog, o->name);
	} else if (optopt && !is_long && optopt > 0 && optopt < 128 && isgraph(optopt)) {
		fprintf(stderr, "%s: unknown option -%c\n", prog, optopt);
	} else {
		fprintf(stderr, "%s: unknown or ambiguous option %.200s\n", prog, typed);
	}
	return 2;
}

int ctl_opt_invalid(const char *prog, const char *name, const char *value, const char *why)
{
	fprintf(stderr, "%s: invalid value for %s: '%.200s'%s (%s)\n", prog, name, value,
		strlen(value) > 200 ? "..." : "", why);
	return 2;
}

int ctl_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
		return -EINVAL;
	if (hex && !isxdigit((unsigned char)s[2]))
		return -EINVAL;
	errno = 0;
	/* 0x100 as hex (register maps are often written so); 010 is ten, not octal */
	v = strtol(s, &end, hex ? 16 : 10);
	if (*end)
		return -EINVAL;
	if (errno || v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

const struct ctl_cmd *ctl_cmd_find(const struct ctl_cmd *table, const char *name)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

void ctl_usage_line(FILE *f, const char *prefix, const char *name, const char *usage, const char *help)
{
	fprintf(f, "  %s%s%s%s\n", prefix, name, *usage ? " " : "", usage);
	if (help)
		fprintf(f, "      %s\n", help);
}

void ctl_cmd_usage(FILE *f, const struct ctl_cmd *table, const char *prefix)
{
	for (; table->name; table++) {
		if (table->sub) {
			char sub[64];
			snprintf(sub, sizeof(sub), "%s%s ", prefix, table->name);
			ctl_cmd_usage(f, table->sub, sub);
		} else if (table->usage) {
			ctl_usage_line(f, prefix, table->name, table->usage, table->help);
		}
	}
}

int ctl_cmd_missing(const char *prog, const struct ctl_cmd *cmd)
{
	char prefix[64];

	fprintf(stderr, "%s: %s needs a command:", prog, cmd->name);
	for (const struct ctl_cmd *c = cmd->sub; c->name; c++)
		fprintf(stderr, "%s %s", c == cmd->sub ? "" : ",", c->name);
	fprintf(stderr, "\nusage:\n");
	snprintf(prefix, sizeof(prefix), "%s ", cmd->name);
	ctl_cmd_usage(stderr, cmd->sub, prefix);
	fprintf(stderr, "(%s %s --help: this list on standard output, exit status 0)\n", prog, cmd->name);
	return 2;
}

int ctl_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

/* "  --note TEXT, --json" from "--note=TEXT --json". */
static void print_opts(FILE *f, const char *opts)
{
	const char *p = opts;
	int first = 1;

	fputs("options:", f);
	while (*p) {
		size_t n = strcspn(p, " ");
		const char *eq = memchr(p, '=', n);
		if (n) {
			if (eq)
				fprintf(f, "%s %.*s %.*s", first ? "" : ",", (int)(eq - p), p, (int)(n - (size_t)(eq - p) - 1),
					eq + 1);
			else
				fprintf(f, "%s %.*s", first ? "" : ",", (int)n, p);
			first = 0;
		}
		p += n;
		p += strspn(p, " ");
	}
	fprintf(f, "%s -h, --help\n", first ? "" : ",");
}

void ctl_cmd_help(FILE *f, const char *path, const struct ctl_cmd *c)
{
	char prefix[128];

	if (c->sub) {
		fprintf(f, "usage: coldchainctl %s COMMAND [ARGUMENTS] [OPTIONS]\n", path);
		if (c->help)
			fprintf(f, "  %s\n", c->help);
		fputs("commands:\n", f);
		snprintf(prefix, sizeof(prefix), "%s ", path);
		ctl_cmd_usage(f, c->sub, prefix);
		if (c->opts && *c->opts)
			print_opts(f, c->opts);
		fprintf(f, "Each answers `coldchainctl %s COMMAND --help`.\n", path);
		return;
	}
	fprintf(f, "usage: coldchainctl %s%s%s\n", path, c->usage && *c->usage ? " " : "", c->usage ? c->usage : "");
	if (c->help)
		fprintf(f, "      %s\n", c->help);
	print_opts(f, c->opts ? c->opts : "");
}

static const struct ctl_cmd *roots_find(const struct ctl_cmd *const *roots, const char *name)
{
	const struct ctl_cmd *c = NULL;

	for (const struct ctl_cmd *const *r = roots; *r && !c; r++)
		c = ctl_cmd_find(*r, name);
	return c;
}

const struct ctl_cmd *ctl_resolve(const struct ctl_cmd *const *roots, int argc, char **argv, int *depth, char *path,
				  size_t n)
{
	const struct ctl_cmd *c = roots_find(roots, argv[0]), *s;

	*depth = 1;
	if (!c)
		return NULL;
	snprintf(path, n, "%s", c->name);
	while (c->sub && *depth < argc && (s = ctl_cmd_find(c->sub, argv[*depth]))) {
		size_t l = strlen(path);
		snprintf(path + l, n - l, " %s", s->name);
		c = s;
		(*depth)++;
	}
	return c;
}

int ctl_dispatch(const struct ctl_cmd *const *roots, int argc, char **argv)
{
	const struct ctl_cmd *c, *top = roots_find(roots, argv[1]);
	char path[128];
	int depth;

	c = ctl_resolve(roots, argc - 1, argv + 1, &depth, path, sizeof(path));
	if (!c)
		return -1;
	if (!(c->flags & CTL_OWN_HELP) && ctl_wants_help(argc - 1, argv + 1)) {
		ctl_cmd_help(stdout, path, c);
		return 0;
	}
	if (c->sub && depth == argc - 1)
		return ctl_cmd_missing("coldchainctl", c);
	if (top->run) /* a leaf, or a group that finds its subcommand after options */
		return top->run(argc - 1, argv + 1);
	if (c->sub) {
		fprintf(stderr, "coldchainctl: %s: unknown command '%.200s'\n", path, argv[1 + depth]);
		ctl_cmd_missing("coldchainctl", c);
		return 2;
	}
	return c->run(argc - depth, argv + depth);
}
