/* errors.c - the configuration's messages: collected as FILE:LINE: PATH:
 * message while a file loads (any number of them: a run reports every
 * error), sorted by file and line at the end; the setting paths they name;
 * the hints that turn libconfig's bare "syntax error" into something a
 * technician can act on.  The format is described in config_int.h. */
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../../util/hash.h"

void errors_add(struct cc_errors *e, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		s = xstrdup("out of memory formatting a configuration error");
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->msg = xrealloc(e->msg, e->cap * sizeof(*e->msg));
	}
	e->msg[e->n++] = s;
}

void errors_print(const struct cc_errors *e, FILE *f)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->msg[i]);
	/* The reload checker writes through a pipe and leaves with _exit(). */
	fflush(f);
}

void errors_free(struct cc_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = e->cap = 0;
}

size_t file_intern(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i], name) == 0)
			return i;
	c->files = xrealloc(c->files, (c->nfiles + 1) * sizeof(*c->files));
	c->files[c->nfiles] = xstrdup(name);
	return c->nfiles++;
}

/* The file a setting came from, as it was opened. */
size_t src_file(struct ctx *c, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;
	size_t i;
	char *j;

	if (!f || strcmp(f, c->cur_file) == 0)
		return file_intern(c, c->cur_file);
	j = path_join(c->cur_incdir, f);
	i = file_intern(c, j);
	free(j);
	return i;
}

int src_line(const config_setting_t *s)
{
	int l = s ? config_setting_source_line(s) : 0;
	return l > 0 ? l : 1; /* the root group has line 0 */
}

void err_add(struct ctx *c, size_t file, int line, const char *path, const char *fmt, va_list ap)
{
	char *m;

	if (vasprintf(&m, fmt, ap) < 0)
		m = xstrdup("(out of memory)");
	if (c->nerr == c->caperr) {
		c->caperr = c->caperr ? 2 * c->caperr : 16;
		c->errs = xrealloc(c->errs, c->caperr * sizeof(*c->errs));
	}
	c->errs[c->nerr].file = file;
	c->errs[c->nerr].line = line;
	c->errs[c->nerr].seq = c->nerr;
	if (path && *path) {
		c->errs[c->nerr].text = xasprintf("%s: %s", path, m);
		free(m);
	} else {
		c->errs[c->nerr].text = m;
	}
	c->nerr++;
}

void err_at(struct ctx *c, const config_setting_t *s, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_add(c, src_file(c, s), src_line(s), path, fmt, ap);
	va_end(ap);
}

void err_file(struct ctx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_add(c, file_intern(c, file), line, NULL, fmt, ap);
	va_end(ap);
}

/* "line 12" in the same file, else "FILE:12": where the first of two was. */
char *err_where(struct ctx *c, const config_setting_t *s, const config_setting_t *now)
{
	size_t f = src_file(c, s);
	if (f == src_file(c, now))
		return xasprintf("line %d", src_line(s));
	return xasprintf("%s:%d", c->files[f], src_line(s));
}

static size_t name_hash(const char *s)
{
	return hash_fold(fnv1a64_str(s));
}

/* The slot of name: where it is, or the empty one where it would go. */
static size_t *names_slot(const struct names *n, const char *name)
{
	size_t i = name_hash(name) & (n->nslot - 1);

	while (n->slot[i] && strcmp(n->v[n->slot[i] - 1].name, name) != 0)
		i = (i + 1) & (n->nslot - 1);
	return &n->slot[i];
}

static void names_grow(struct names *n)
{
	free(n->slot);
	n->nslot = n->nslot ? 2 * n->nslot : 16;
	n->slot = xcalloc(n->nslot, sizeof(*n->slot));
	for (size_t i = 0; i < n->n; i++)
		*names_slot(n, n->v[i].name) = i + 1;
}

/* Registers name; returns the setting where it was first seen, or NULL. */
const config_setting_t *names_add(struct names *n, const char *name, const config_setting_t *s)
{
	size_t *slot;

	if (2 * (n->n + 1) > n->nslot)
		names_grow(n);
	slot = names_slot(n, name);
	if (*slot)
		return n->v[*slot - 1].s;
	if (n->n == n->cap) {
		n->cap = n->cap ? 2 * n->cap : 8;
		n->v = xrealloc(n->v, n->cap * sizeof(*n->v));
	}
	n->v[n->n].name = name;
	n->v[n->n].s = s;
	*slot = ++n->n;
	return NULL;
}

void names_free(struct names *n)
{
	free(n->v);
	free(n->slot);
	*n = (struct names){ 0 };
}

char *key_path(const char *base, const char *key)
{
	return *base ? xasprintf("%s.%s", base, key) : xstrdup(key);
}

/* The config's one unique-name check: registers name (of element el) in n;
 * when it is there already, reports `KIND "NAME" is already defined at
 * WHERE` at the setting s, as path.member.  A NULL name (unset or invalid,
 * reported already) is no name. */
void name_unique(struct ctx *c, struct names *n, const char *kind, const char *name,
			const config_setting_t *el, const config_setting_t *s, const char *path, const char *member)
{
	const config_setting_t *first;
	char *w, *kp;

	if (!name || !(first = names_add(n, name, el)))
		return;
	w = err_where(c, first, el);
	kp = key_path(path, member);
	err_at(c, s, kp, "%s \"%s\" is already defined at %s", kind, name, w);
	free(kp);
	free(w);
}

/* err_at key k of a group; see config_int.h. */
void err_key(struct ctx *c, const struct seen *sg, int k, const struct key *keys, const config_setting_t *anchor,
	     const char *gp, const char *fmt, ...)
{
	const config_setting_t *at = sg[k].s ? sg[k].s : anchor;
	char *kp = key_path(gp, keys[k].name);
	va_list ap;

	va_start(ap, fmt);
	err_add(c, src_file(c, at), src_line(at), kp, fmt, ap);
	va_end(ap);
	free(kp);
}

/* base[name] when the element has a usable name, else base[index]. */
char *elem_path(const char *base, const config_setting_t *el, const char *namekey, size_t idx)
{
	const config_setting_t *n = NULL;

	if (config_setting_type(el) == CONFIG_TYPE_GROUP)
		n = config_setting_get_member(el, namekey);
	if (n && config_setting_type(n) == CONFIG_TYPE_STRING && *config_setting_get_string(n))
		return xasprintf("%s[%s]", base, config_setting_get_string(n));
	return xasprintf("%s[%zu]", base, idx);
}

const char *lc_type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	}
	return "an unknown type";
}

static char close_of(char open)
{
	return open == '{' ? '}' : open == '(' ? ')' : ']';
}

/* Where the error line starts, and the innermost bracket open there. */
struct hint_pos {
	const char *ls; /* NULL when the text has fewer lines */
	char in_ch;     /* 0 when none */
	int in_line;
};

/* Strings, comments and brackets up to the error line eline: an unclosed
 * string, a bracket closing nothing or the wrong one, a bracket never
 * closed.  NULL when they are all fine (pos says where eline is). */
static char *hint_brackets(const char *text, int eline, struct hint_pos *pos)
{
	struct {
		char ch;
		int line;
	} st[64];
	int depth = 0, line = 1;
	const char *p = text;

	while (*p) {
		char ch = *p;
		if (line == eline && !pos->ls) {
			pos->ls = p;
			if (depth > 0 && depth <= 64) {
				pos->in_ch = st[depth - 1].ch;
				pos->in_line = st[depth - 1].line;
			}
		}
		if (ch == '\n') {
			line++;
			p++;
		} else if (ch == '#' || (ch == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (ch == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			if (*p)
				p += 2;
		} else if (ch == '"') {
			for (p++; *p && *p != '"' && *p != '\n'; p++)
				if (*p == '\\' && p[1] && p[1] != '\n')
					p++;
			if (*p != '"' && line <= eline)
				return xasprintf("the string opened on line %d is not closed (expected '\"' before the end of "
						 "the line)", line);
			if (*p == '"')
				p++;
		} else if (ch == '{' || ch == '(' || ch == '[') {
			if (depth < 64) {
				st[depth].ch = ch;
				st[depth].line = line;
			}
			depth++;
			p++;
		} else if (ch == '}' || ch == ')' || ch == ']') {
			if (depth == 0 && line <= eline)
				return xasprintf("'%c' on line %d closes nothing (expected a setting NAME = VALUE;)", ch, line);
			if (depth > 0 && --depth < 64 && close_of(st[depth].ch) != ch && line <= eline)
				return xasprintf("'%c' on line %d does not close the '%c' opened on line %d (expected '%c')", ch,
						 line, st[depth].ch, st[depth].line, close_of(st[depth].ch));
			p++;
		} else {
			p++;
		}
	}
	if (depth > 0 && depth <= 64 && eline >= line - 1)
		return xasprintf("the '%c' opened on line %d is not closed (expected '%c' before the end of the file)",
				 st[depth - 1].ch, st[depth - 1].line, close_of(st[depth - 1].ch));
	return NULL;
}

/* The error line ls: NAME = WORD or NAME = ; anywhere on it, NAME VALUE at
 * its start.  NULL when it is none of these. */
static char *hint_value(const char *ls)
{
	const char *q = ls, *e = strchr(ls, '\n');
	char name[64], word[64];
	int n = 0;

	if (!e)
		e = ls + strlen(ls);
	for (const char *v = ls; v < e && *v != '#'; v++) {
		const char *nb = v, *ne;
		if (*v == '"') {
			for (v++; v < e && *v != '"'; v++)
				if (*v == '\\' && v + 1 < e)
					v++;
			continue;
		}
		if (*v != '=' && *v != ':')
			continue;
		for (ne = v; ne > ls && (ne[-1] == ' ' || ne[-1] == '\t'); ne--)
			;
		for (nb = ne; nb > ls && (isalnum((unsigned char)nb[-1]) || nb[-1] == '_' || nb[-1] == '-' ||
					  nb[-1] == '*'); nb--)
			;
		snprintf(name, sizeof(name), "%.*s", (int)(ne - nb), nb);
		for (q = v + 1; q < e && (*q == ' ' || *q == '\t'); q++)
			;
		if (q < e && isalpha((unsigned char)*q) && sscanf(q, "%63[A-Za-z0-9_.-]", word) == 1 &&
		    strcasecmp(word, "true") != 0 && strcasecmp(word, "false") != 0)
			return xasprintf("expected a value after '%c' of %s, found the bare word %s (a string needs "
					 "double quotes: \"%s\")", *v, name, word, word);
		if (q >= e || *q == ';' || *q == ',' || *q == '#')
			return xasprintf("expected a value after '%c' of %s", *v, name);
	}
	for (q = ls; *q == ' ' || *q == '\t'; q++)
		;
	if (sscanf(q, "%63[A-Za-z0-9_*-] %n", name, &n) == 1 && n > 0) {
		const char *v = q + n;
		if (*v == '"' || *v == '{' || *v == '(' || *v == '[' || isdigit((unsigned char)*v) || *v == '-')
			return xasprintf("expected '=' (or ':') between %s and its value", name);
	}
	return NULL;
}

/* What libconfig's bare "syntax error" at line eline means, in words a
 * technician can act on: an unclosed string or bracket, a bracket that
 * closes the wrong one, a bare word where a value belongs, a missing '='. */
static char *syntax_hint(const char *text, int eline)
{
	struct hint_pos pos = { NULL, 0, 0 };
	char *h = hint_brackets(text, eline, &pos);

	if (h)
		return h;
	if (pos.ls && (pos.in_ch == '(' || pos.in_ch == '[')) {
		const char *q = pos.ls;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == ';')
			return xasprintf("';' inside the %s opened on line %d (expected ',' between its elements, or '%c' "
					 "to close it)", pos.in_ch == '(' ? "list" : "array", pos.in_line,
					 close_of(pos.in_ch));
	}
	if (pos.ls && (h = hint_value(pos.ls)))
		return h;
	return xstrdup("expected a setting NAME = VALUE; or the end of the enclosing group { } or list ( )");
}

/* libconfig's "cannot open include file" at line of file (text): name the
 * file, and where it was looked for. */
static void err_include(struct ctx *c, const char *file, const char *text, int line, const char *t)
{
	const char *q = text_line(text, line), *a, *b;
	char *name, *target;
	int e;

	a = q ? strstr(q, "@include") : NULL;
	a = a ? strchr(a, '"') : NULL;
	b = a ? strchr(a + 1, '"') : NULL;
	if (!a || !b) {
		err_file(c, file, line, "%s", t);
		return;
	}
	name = xasprintf("%.*s", (int)(b - a - 1), a + 1);
	target = path_join(c->cur_incdir, name);
	e = access(target, R_OK) < 0 ? errno : EIO;
	if (name[0] == '/' && e == EIO)
		/* libconfig 1.5 prefixes the including file's directory even
		 * to an absolute name */
		err_file(c, file, line, "@include \"%s\": an absolute path cannot be included (libconfig reads it "
					"relative to the directory of %s): write it relative to that directory",
			 name, c->cur_file);
	else
		err_file(c, file, line, "@include \"%s\": cannot open %s: %s (expected a readable file; @include names "
					"it relative to the directory of %s)",
			 name, target, strerror(e), c->cur_file);
	free(name);
	free(target);
}

void err_parse(struct ctx *c, const config_t *lc)
{
	const char *f = config_error_file(lc), *t = config_error_text(lc), *file;
	int line = config_error_line(lc) > 0 ? config_error_line(lc) : 1;
	char *j = NULL, *text;

	if (f && strcmp(f, c->cur_file) != 0)
		j = path_join(c->cur_incdir, f);
	file = j ? j : c->cur_file;
	text = read_text(c, file);
	if (text && (!t || strcmp(t, "syntax error") == 0)) {
		char *hint = syntax_hint(text, line);
		err_file(c, file, line, "syntax error: %s", hint);
		free(hint);
	} else if (text && t && strcmp(t, "cannot open include file") == 0) {
		err_include(c, file, text, line, t);
	} else {
		err_file(c, file, line, "%s", t ? t : "syntax error");
	}
	free(text);
	free(j);
}

static int err_cmp(const void *a, const void *b)
{
	const struct err *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void err_flush(struct ctx *c, struct cc_errors *e)
{
	if (c->nerr)
		qsort(c->errs, c->nerr, sizeof(*c->errs), err_cmp);
	for (size_t i = 0; i < c->nerr; i++) {
		errors_add(e, "%s:%d: %s", c->files[c->errs[i].file], c->errs[i].line, c->errs[i].text);
		free(c->errs[i].text);
	}
}
