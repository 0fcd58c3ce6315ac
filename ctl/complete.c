/* complete.c - the candidates for `coldchainctl <TAB>` (see complete.h),
 * from the command tables alone: names from the rows, options from their
 * opts, operands by the capitalised names in their usage. */
#include "complete.h"

#include <stdio.h>
#include <string.h>

#include "ctl_socket.h"

#define MAX_WORD 256

struct walk {
	const struct ctl_cmd *node;
	int npos;		  /* operands after the node's name */
	const char *conf, *sock;  /* -c / --socket, for the daemon's names */
};

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The value name of option w in opts ("--note=TEXT" -> "TEXT"), "" for a
 * flag, NULL when the row has no such option. */
static const char *opt_value(const char *opts, const char *w, char *buf, size_t n)
{
	size_t wl = strlen(w);

	for (const char *p = opts ? opts : ""; *p; p += strspn(p, " ")) {
		size_t l = strcspn(p, " ");
		if (strncmp(p, w, wl) == 0 && (l == wl || p[wl] == '=')) {
			snprintf(buf, n, "%.*s", l == wl ? 0 : (int)(l - wl - 1), p + wl + 1);
			return buf;
		}
		p += l;
	}
	return NULL;
}

/* The operand kinds of a usage string, in order ("ROOM LOT PRODUCT [--at
 * T]" -> ROOM, LOT, PRODUCT): words after an option taking a value are its
 * value, not operands.  The i-th into buf, or NULL. */
static const char *operand(const struct ctl_cmd *c, int i, char *buf, size_t n)
{
	const char *p = c->usage ? c->usage : "";
	int skip = 0;
	char w[MAX_WORD], v[MAX_WORD];

	while (*p) {
		size_t l;
		p += strspn(p, " \n[]()");
		l = strcspn(p, " \n[]()");
		if (!l)
			continue;
		snprintf(w, sizeof(w), "%.*s", (int)l, p);
		p += l;
		if (strcmp(w, "|") == 0 || strcmp(w, "...") == 0)
			continue;
		if (skip) {
			skip = 0;
			continue;
		}
		if (w[0] == '-') {
			const char *val = opt_value(c->opts, w, v, sizeof(v));
			skip = !val || *val;
			continue;
		}
		if (i-- == 0) {
			snprintf(buf, n, "%s", w);
			return buf;
		}
	}
	return NULL;
}

static void put(const char *s, size_t l, const char *cur)
{
	if (l >= strlen(cur) && strncmp(s, cur, strlen(cur)) == 0)
		printf("%.*s\n", (int)l, s);
}

/* The candidates for a value or operand named kind. */
static void by_kind(const char *kind, const struct walk *w, const char *cur)
{
	if (strcmp(kind, "FILE") == 0 || strcmp(kind, "PATH") == 0 || strcmp(kind, "CONFIG") == 0) {
		printf("__files__\n");
	} else if (strchr(kind, '|')) { /* fixed choices: html|csv */
		for (const char *p = kind; *p; p += *p == '|') {
			size_t l = strcspn(p, "|");
			put(p, l, cur);
			p += l;
		}
	} else {
		ctl_socket_names(kind, w->conf, w->sock, cur, stdout);
	}
}

static void names(const struct ctl_cmd *t, const char *cur)
{
	for (; t && t->name; t++)
		put(t->name, strlen(t->name), cur);
}

static void options(const char *opts, const char *cur)
{
	for (const char *p = opts ? opts : ""; *p; p += strspn(p, " ")) {
		size_t l = strcspn(p, " "), k = strcspn(p, "= ");
		put(p, k, cur);
		p += l;
	}
	put("--help", 6, cur);
}

static const struct ctl_cmd *find_root(const struct ctl_cmd *const *roots, const char *name)
{
	for (; *roots; roots++) {
		const struct ctl_cmd *c = ctl_cmd_find(*roots, name);
		if (c)
			return c;
	}
	return NULL;
}

int ctl_complete(const struct ctl_cmd *const *roots, int argc, char **argv)
{
	struct walk w = { NULL, 0, NULL, NULL };
	const char *cur = argc > 0 ? argv[argc - 1] : "", *val = NULL;
	char v[MAX_WORD], k[MAX_WORD];

	if (!freopen("/dev/null", "w", stderr))
		return 0;
	if (argc > 1 && strcmp(argv[0], "help") == 0)
		return ctl_complete(roots, argc - 1, argv + 1);
	if (argc <= 1) {
		if (starts(cur, "-")) {
			put("--help", 6, cur);
			put("--version", 9, cur);
		}
		for (const struct ctl_cmd *const *r = roots; *r; r++)
			names(*r, cur);
		put("help", 4, cur);
		return 0;
	}
	if (!(w.node = find_root(roots, argv[0])))
		return 0;
	for (int i = 1; i < argc - 1; i++) {
		const struct ctl_cmd *s;
		if (argv[i][0] == '-') {
			val = opt_value(w.node->opts, argv[i], v, sizeof(v));
			if (!val || !*val || i + 1 >= argc - 1)
				continue;
			if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
				w.conf = argv[i + 1];
			if (strcmp(argv[i], "--socket") == 0)
				w.sock = argv[i + 1];
			i++;
		} else if (w.node->sub && !w.npos && (s = ctl_cmd_find(w.node->sub, argv[i]))) {
			w.node = s;
		} else {
			w.npos++;
		}
	}
	val = argv[argc - 2][0] == '-' ? opt_value(w.node->opts, argv[argc - 2], v, sizeof(v)) : NULL;
	if (val && *val)
		by_kind(val, &w, cur);
	else if (starts(cur, "-"))
		options(w.node->opts, cur);
	else if (w.node->sub && !w.npos)
		names(w.node->sub, cur);
	else if (!w.node->sub && operand(w.node, w.npos, k, sizeof(k)))
		by_kind(k, &w, cur);
	return 0;
}
