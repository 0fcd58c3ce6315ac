/* schema.c - the configuration's schema machinery: a group is a table of
 * keys (name, type, bounds, default, validator, help), and one function,
 * schema_apply(), checks a libconfig group against its table and stores
 * each value into the group's struct, one store function per key type.
 * The same tables drive config_print and the generated reference
 * (config_schema_foreach), so the docs cannot drift from the checks. */
#include "config_int.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *kt_expect(enum kt t)
{
	switch (t) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH:
	case KT_ENUM: return "a string";
	case KT_INT: return "an integer";
	case KT_DBL: return "a number";
	case KT_BOOL: return "a boolean (true or false)";
	case KT_DUR: return "a duration string such as \"10s\"";
	case KT_SIZE: return "a size string such as \"512M\"";
	case KT_GROUP: return "a group { ... }";
	case KT_LIST: return "a list ( ... )";
	}
	return "?";
}

int schema_name_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* Range text for docs (sep "|") and messages (sep ", "). */
static void key_range(const struct key *k, char *buf, size_t len, const char *sep)
{
	char a[32], b[32];
	size_t o = 0;

	buf[0] = '\0';
	if (k->range) {
		snprintf(buf, len, "%s", k->range);
	} else if (k->kt == KT_ENUM) {
		for (size_t i = 0; k->enums[i] && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? sep : "", k->enums[i]);
	} else if (k->kt == KT_INT && k->ints) {
		for (size_t i = 0; k->ints[i] && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? sep : "", k->ints[i]);
	} else if (k->kt == KT_INT) {
		snprintf(buf, len, "%.0f..%.0f", k->min, k->max);
	} else if (k->kt == KT_SIZE) {
		format_size((uint64_t)k->min, a, sizeof(a));
		format_size((uint64_t)k->max, b, sizeof(b));
		snprintf(buf, len, "%s..%s", a, b);
	} else if (k->kt == KT_DUR) {
		format_duration_ms((int64_t)k->min, a, sizeof(a));
		format_duration_ms((int64_t)k->max, b, sizeof(b));
		snprintf(buf, len, "%s..%s", a, b);
	} else if (k->kt == KT_DBL) {
		snprintf(buf, len, "finite");
	}
}

/* The literal of setting name on the line at p (up to end) that cannot be
 * the value v libconfig read: NULL when one of them reads as v (several
 * settings of one name may share a line) or none is out of 32 bits. */
static char *int_literal_on_line(const char *p, const char *end, const char *name, long long v)
{
	size_t nl = strlen(name);
	const char *bad_lit = NULL, *bad_end = NULL;

	for (const char *q = p; q + nl <= end; q++) {
		const char *t = q + nl, *lit;
		char *e;
		long long lv;

		if (strncmp(q, name, nl) != 0)
			continue;
		if (q > p && (isalnum((unsigned char)q[-1]) || q[-1] == '_' || q[-1] == '-' || q[-1] == '*'))
			continue;
		while (t < end && (*t == ' ' || *t == '\t'))
			t++;
		if (t >= end || (*t != '=' && *t != ':'))
			continue;
		t++;
		while (t < end && (*t == ' ' || *t == '\t'))
			t++;
		lit = t;
		errno = 0;
		lv = strtoll(lit, &e, 0);
		if (e == lit)
			continue;
		if (errno != ERANGE && lv == v)
			return NULL;
		if (!bad_lit && (errno == ERANGE || lv < INT32_MIN || lv > INT32_MAX)) {
			while (e < end && isalnum((unsigned char)*e))
				e++;
			bad_lit = lit;
			bad_end = e;
		}
	}
	return bad_lit ? xasprintf("%.*s", (int)(bad_end - bad_lit), bad_lit) : NULL;
}

/* The literal as written, when libconfig 1.5 truncated it to 32 bits: NULL
 * when it did not (or when the source line cannot be found). */
static char *int_literal_truncated(struct ctx *c, const config_setting_t *s, long long v)
{
	const char *name = config_setting_name(s), *file, *p, *end;
	int line = config_setting_source_line(s);
	size_t fi;

	if (!name || line <= 0)
		return NULL;
	fi = src_file(c, s); /* may grow c->files: index after */
	file = c->files[fi];
	if (!c->src_name || strcmp(c->src_name, file) != 0) {
		free(c->src_name);
		free(c->src);
		c->src_name = xstrdup(file);
		c->src = read_text(c, file);
	}
	if (!c->src || !(p = text_line(c->src, line)))
		return NULL;
	end = strchr(p, '\n');
	if (!end)
		end = p + strlen(p);
	return int_literal_on_line(p, end, name, v);
}

/* An enum value (index i of k->enums) stored as k->store says. */
static void enum_put(const struct key *k, char *at, int i)
{
	if (k->store == ES_STR) {
		char **sp = (char **)(void *)at;
		free(*sp);
		*sp = xstrdup(k->enums[i]);
	} else if (k->store == ES_CHAR) {
		*at = (char)toupper((unsigned char)k->enums[i][0]);
	} else {
		memcpy(at, &i, sizeof(int));
	}
}

static void set_default(const struct key *k, void *obj)
{
	char *at = (char *)obj + k->off;

	if (k->flags & KF_DYN)
		return;
	switch (k->kt) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH: {
		char **sp = (char **)(void *)at;
		free(*sp);
		*sp = k->def ? xstrdup(k->def) : NULL;
		break;
	}
	case KT_INT:
		*(int *)(void *)at = k->def ? atoi(k->def) : 0;
		break;
	case KT_DBL:
		*(double *)(void *)at = k->def ? strtod(k->def, NULL) : 0.0;
		break;
	case KT_BOOL:
		*(int *)(void *)at = k->def && strcmp(k->def, "true") == 0;
		break;
	case KT_DUR: {
		int64_t ms = 0;
		if (k->def)
			parse_duration_ms(k->def, &ms);
		*(int64_t *)(void *)at = ms;
		break;
	}
	case KT_SIZE: {
		uint64_t b = 0;
		if (k->def)
			parse_size(k->def, &b);
		*(uint64_t *)(void *)at = b;
		break;
	}
	case KT_ENUM: {
		int idx = 0;
		for (int i = 0; k->def && k->enums[i]; i++)
			if (strcmp(k->enums[i], k->def) == 0)
				idx = i;
		enum_put(k, at, idx);
		break;
	}
	case KT_GROUP:
	case KT_LIST:
		break;
	}
}

/* 1 when libconfig type t is what key type kt takes. */
static int type_fits(enum kt kt, int t)
{
	switch (kt) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH:
	case KT_DUR:
	case KT_SIZE:
	case KT_ENUM:
		return t == CONFIG_TYPE_STRING;
	case KT_INT:
		return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	case KT_DBL:
		return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
	case KT_BOOL:
		return t == CONFIG_TYPE_BOOL;
	case KT_GROUP:
		return t == CONFIG_TYPE_GROUP;
	case KT_LIST: /* an array [ ... ] is a list of scalars (a line's probes) */
		return t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY;
	}
	return 0;
}

/* Why string v does not fit key k (a string, name or path key), or NULL:
 * the message of a config file and of coldchainctl's options alike. */
static char *string_bad(const struct key *k, const char *v)
{
	const char *why;

	if (!*v)
		return xstrdup("must not be empty");
	if (k->kt == KT_NAME && !schema_name_ok(v))
		return xasprintf("\"%s\" may only contain letters, digits, '.', '_' and '-'", v);
	if (k->check && (why = k->check(v)))
		return xasprintf("\"%s\" %s", v, why);
	return NULL;
}

/* Why integer v does not fit key k (range: its range text), or NULL. */
static char *int_bad(const struct key *k, long long v, const char *range)
{
	if (k->ints) {
		int found = 0;
		for (size_t i = 0; k->ints[i]; i++)
			found |= k->ints[i] == v;
		return found ? NULL : xasprintf("%lld is not one of: %s", v, range);
	}
	if (v < (long long)k->min || v > (long long)k->max)
		return xasprintf("%lld is out of range %s", v, range);
	return NULL;
}

/* The store functions: one present setting s, of a type that fits, checked
 * against its key k and stored at obj + k->off.  0 or -1 (reported). */
static int store_string(struct ctx *c, const struct key *k, const config_setting_t *s, char *at, const char *path)
{
	const char *v = config_setting_get_string(s);
	char **sp = (char **)(void *)at, *why = string_bad(k, v);

	if (why) {
		err_at(c, s, path, "%s", why);
		free(why);
		return -1;
	}
	free(*sp);
	if (k->kt == KT_PATH && strcmp(v, "-") != 0)
		*sp = path_join(c->absdir, v);
	else
		*sp = xstrdup(v);
	return 0;
}

static int store_int(struct ctx *c, const struct key *k, const config_setting_t *s, char *at, const char *path,
		     const char *range)
{
	long long v = config_setting_get_int64(s);
	char *lit = config_setting_type(s) == CONFIG_TYPE_INT ? int_literal_truncated(c, s, v) : NULL, *why;

	if (lit) {
		err_at(c, s, path, "%s is out of range %s", lit, range);
		free(lit);
		return -1;
	}
	if ((why = int_bad(k, v, range))) {
		err_at(c, s, path, "%s", why);
		free(why);
		return -1;
	}
	*(int *)(void *)at = (int)v;
	return 0;
}

static int store_double(struct ctx *c, const struct key *k, const config_setting_t *s, char *at, const char *path)
{
	int t = config_setting_type(s);
	double v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)config_setting_get_int64(s);
	char *lit = t == CONFIG_TYPE_INT ? int_literal_truncated(c, s, config_setting_get_int64(s)) : NULL;

	if (lit) {
		v = strtod(lit, NULL);
		free(lit);
	}
	if (!isfinite(v)) {
		err_at(c, s, path, "must be a finite number");
		return -1;
	}
	if ((k->flags & KF_NONZERO) && v == 0.0) {
		err_at(c, s, path, "must not be 0");
		return -1;
	}
	*(double *)(void *)at = v;
	return 0;
}

static int store_duration(struct ctx *c, const struct key *k, const config_setting_t *s, char *at, const char *path,
			  const char *range)
{
	const char *v = config_setting_get_string(s);
	int64_t ms;
	int rc = parse_duration_ms(v, &ms);

	if (rc == -ERANGE) {
		err_at(c, s, path, "\"%s\" is out of range %s", v, range);
		return -1;
	}
	if (rc < 0) {
		err_at(c, s, path, "\"%s\" is not a duration (an integer and one unit of ms, s, m, h, d, "
				   "e.g. \"500ms\", \"10s\")", v);
		return -1;
	}
	if (ms < (int64_t)k->min || ms > (int64_t)k->max) {
		err_at(c, s, path, "\"%s\" is out of range %s", v, range);
		return -1;
	}
	*(int64_t *)(void *)at = ms;
	return 0;
}

static int store_size(struct ctx *c, const struct key *k, const config_setting_t *s, char *at, const char *path,
		      const char *range)
{
	const char *v = config_setting_get_string(s);
	uint64_t b;
	int rc = parse_size(v, &b);

	if (rc == -EINVAL) {
		err_at(c, s, path, "\"%s\" is not a size (an integer and an optional K, M, G or T, "
				   "e.g. \"512M\")", v);
		return -1;
	}
	if (rc < 0 || b < (uint64_t)k->min || b > (uint64_t)k->max) {
		err_at(c, s, path, "\"%s\" is out of range %s", v, range);
		return -1;
	}
	*(uint64_t *)(void *)at = b;
	return 0;
}

static int store_enum(struct ctx *c, const struct key *k, const config_setting_t *s, char *at, const char *path,
		      const char *range, int *idx)
{
	const char *v = config_setting_get_string(s);

	for (int i = 0; k->enums[i]; i++) {
		if (strcmp(k->enums[i], v) != 0)
			continue;
		*idx = i;
		enum_put(k, at, i);
		return 0;
	}
	err_at(c, s, path, "\"%s\" is not one of: %s", v, range);
	return -1;
}

/* Checks one present setting against its key and stores it.  0 or -1. */
static int store(struct ctx *c, const struct key *k, const config_setting_t *s, void *obj, const char *path, int *idx)
{
	char *at = (char *)obj + k->off;
	int t = config_setting_type(s);
	char range[256];

	if (!type_fits(k->kt, t)) {
		err_at(c, s, path, "expected %s, got %s", kt_expect(k->kt), lc_type_name(t));
		return -1;
	}
	key_range(k, range, sizeof(range), ", ");
	switch (k->kt) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH:
		return store_string(c, k, s, at, path);
	case KT_INT:
		return store_int(c, k, s, at, path, range);
	case KT_DBL:
		return store_double(c, k, s, at, path);
	case KT_BOOL:
		*(int *)(void *)at = config_setting_get_bool(s) ? 1 : 0;
		return 0;
	case KT_DUR:
		return store_duration(c, k, s, at, path, range);
	case KT_SIZE:
		return store_size(c, k, s, at, path, range);
	case KT_ENUM:
		return store_enum(c, k, s, at, path, range, idx);
	case KT_GROUP:
	case KT_LIST:
		break;
	}
	return 0;
}

/* A graded number is a list (VALUE, "GRADE: source"): returns VALUE's
 * setting (NULL, reported, when the list has another shape), and the grade
 * and source (NULL when none) found in it. */
static const config_setting_t *graded_value(struct ctx *c, const config_setting_t *s, const char *path, char *grade,
					    char **source)
{
	const config_setting_t *v, *g;
	const char *t, *src;

	*grade = '\0';
	*source = NULL;
	if (config_setting_length(s) != 2 ||
	    config_setting_type(g = config_setting_get_elem(s, 1)) != CONFIG_TYPE_STRING) {
		err_at(c, s, path, "a graded number is (VALUE, \"GRADE: source\"), e.g. (2.0, \"A: Paull et al. 2014 "
				   "(CTAHR F_N-29)\") or (7.0, \"D\")");
		return NULL;
	}
	v = config_setting_get_elem(s, 0);
	t = config_setting_get_string(g);
	if (!strchr("ABCD", t[0]) || !t[0] || (t[1] != '\0' && t[1] != ':')) {
		err_at(c, g, path, "grade \"%s\" is not one of \"A: source\", \"B: source\", \"C: how it is derived\", "
				   "\"D\" or \"D: note\"", t);
		return v;
	}
	for (src = t[1] ? t + 2 : t + 1; isspace((unsigned char)*src); src++)
		;
	if (!*src && t[0] != 'D') {
		err_at(c, g, path, "grade %c needs its source named after the colon (%s), e.g. \"%c: %s\"", t[0],
		       t[0] == 'A' ? "a primary source read" : t[0] == 'B' ? "the secondary source read" :
				     "the figures it is derived from and how",
		       t[0], t[0] == 'C' ? "middle of 3-5 weeks (Paull et al. 2014)" : "Paull et al. 2014 (CTAHR F_N-29)");
		return v;
	}
	*grade = t[0];
	*source = *src ? xstrdup(src) : NULL;
	return v;
}

/* Records one number of the profile being loaded (c->gparams). */
static void param_add(struct ctx *c, const struct key *k, const void *obj, const config_setting_t *s, char grade,
		      char *source)
{
	struct cc_param *pa;
	char *buf = NULL, *eq, *semi;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m) {
		free(source);
		return;
	}
	schema_print_key(m, "", k, obj);
	fclose(m);
	eq = buf ? strstr(buf, " = ") : NULL;
	semi = buf ? strrchr(buf, ';') : NULL;
	if (!eq || !semi || semi < eq) {
		free(buf);
		free(source);
		return;
	}
	*semi = '\0';
	*c->gparams = xrealloc(*c->gparams, (*c->gnparams + 1) * sizeof(**c->gparams));
	pa = &(*c->gparams)[(*c->gnparams)++];
	pa->group = c->ggroup;
	pa->index = c->gindex;
	pa->key = k->name;
	pa->value = xstrdup(eq + 3);
	pa->grade = grade;
	pa->source = source;
	pa->line = src_line(s);
	free(buf);
}

/* Every setting of grp that is no key of g: "unknown key", with the
 * nearest key's name when one is close. */
static void check_unknown(struct ctx *c, const config_setting_t *grp, const struct group *g, const char *path)
{
	int n = config_setting_length(grp);

	for (int i = 0; i < n; i++) {
		const config_setting_t *ch = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(ch), *best = NULL;
		size_t bestd = 3;
		int known = 0;
		char *kp;

		for (size_t j = 0; j < g->nkeys && !known; j++)
			known = strcmp(g->keys[j].name, name) == 0;
		if (known)
			continue;
		for (size_t j = 0; j < g->nkeys; j++) {
			size_t d = edit_distance(name, g->keys[j].name);
			if (d < bestd) {
				bestd = d;
				best = g->keys[j].name;
			}
		}
		kp = key_path(path, name);
		if (best)
			err_at(c, ch, kp, "unknown key (did you mean \"%s\"?)", best);
		else
			err_at(c, ch, kp, "unknown key");
		free(kp);
	}
}

/* One key k that grp sets (s): stored, or its default when invalid. */
static void apply_present(struct ctx *c, const struct key *k, const config_setting_t *grp, const config_setting_t *s,
			  void *obj, const char *path, struct seen *sn)
{
	/* names (a stage's, the active limit set's) identify, they are not data */
	int gradable = c->gparams && k->kt != KT_GROUP && k->kt != KT_LIST && k->kt != KT_ENUM && k->kt != KT_NAME;
	char grade = '\0', *source = NULL, *kp = key_path(path, k->name);

	if (gradable && config_setting_type(s) == CONFIG_TYPE_LIST)
		sn->s = s = graded_value(c, s, kp, &grade, &source);
	if (!s) {
		sn->s = config_setting_get_member(grp, k->name);
		sn->bad = 1; /* reported by graded_value */
		set_default(k, obj);
	} else if (store(c, k, s, obj, kp, &sn->idx) < 0) {
		sn->bad = 1;
		set_default(k, obj);
		free(source);
	} else if (gradable) {
		param_add(c, k, obj, s, grade, source);
	} else {
		free(source);
	}
	free(kp);
}

void schema_apply(struct ctx *c, const config_setting_t *grp, const config_setting_t *anchor, const struct group *g,
		  void *obj, const char *path, struct seen *seen)
{
	assert(g->nkeys <= MAX_KEYS);
	if (grp)
		check_unknown(c, grp, g, path);
	for (size_t i = 0; i < g->nkeys; i++) {
		const struct key *k = &g->keys[i];
		const config_setting_t *s = grp ? config_setting_get_member(grp, k->name) : NULL;

		seen[i].s = s;
		seen[i].bad = 0;
		seen[i].idx = -1;
		if (s) {
			apply_present(c, k, grp, s, obj, path, &seen[i]);
		} else if (k->flags & KF_REQ) {
			char *kp = key_path(path, k->name);
			err_at(c, grp ? grp : anchor, kp, "missing required key");
			free(kp);
		} else {
			set_default(k, obj);
		}
	}
}

void schema_each_group(struct ctx *c, const config_setting_t *list, const char *base, const char *namekey,
		       void (*fn)(struct ctx *c, const config_setting_t *el, const char *path, void *arg), void *arg)
{
	size_t n = (size_t)config_setting_length(list);

	for (size_t i = 0; i < n; i++) {
		const config_setting_t *el = config_setting_get_elem(list, (unsigned)i);
		char *p = elem_path(base, el, namekey, i);

		if (config_setting_type(el) != CONFIG_TYPE_GROUP)
			err_at(c, el, p, "expected a group { ... }, got %s", lc_type_name(config_setting_type(el)));
		else
			fn(c, el, p, arg);
		free(p);
	}
}

/* --- printing ---------------------------------------------------------- */

void schema_print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Shortest text that reads back as the same double, always a float literal. */
static void print_double(FILE *f, double v)
{
	char buf[64];

	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	fputs(buf, f);
}

/* The value of an enum key, as its name. */
static const char *enum_name(const struct key *k, const char *at)
{
	const char *name = NULL;

	if (k->store == ES_STR) {
		name = *(char *const *)(const void *)at;
	} else if (k->store == ES_CHAR) {
		for (size_t i = 0; k->enums[i]; i++)
			if (toupper((unsigned char)k->enums[i][0]) == *at)
				name = k->enums[i];
	} else {
		int idx;
		memcpy(&idx, at, sizeof(int));
		if (idx >= 0)
			name = k->enums[idx];
	}
	return name ? name : "?";
}

/* 1 when k's value in obj means "not set" and is left out. */
static int key_unset(const struct key *k, const char *at)
{
	if (k->flags & KF_NOPRINT)
		return 1;
	if (k->kt == KT_GROUP || k->kt == KT_LIST)
		return 1;
	if ((k->kt == KT_STR || k->kt == KT_NAME || k->kt == KT_PATH) && !*(char *const *)(const void *)at)
		return 1;
	if ((k->flags & KF_NEG_UNSET) && *(const int *)(const void *)at < 0)
		return 1;
	if ((k->flags & KF_FALSE_UNSET) && !*(const int *)(const void *)at)
		return 1;
	return k->kt == KT_DBL && !isfinite(*(const double *)(const void *)at);
}

/* "name = value" of any key type. */
static void print_value(FILE *f, const struct key *k, const char *at)
{
	char buf[64];

	switch (k->kt) {
	case KT_STR:
	case KT_NAME:
	case KT_PATH:
		fprintf(f, "%s = ", k->name);
		schema_print_string(f, *(char *const *)(const void *)at);
		break;
	case KT_INT:
		fprintf(f, "%s = %d", k->name, *(const int *)(const void *)at);
		break;
	case KT_DBL:
		fprintf(f, "%s = ", k->name);
		print_double(f, *(const double *)(const void *)at);
		break;
	case KT_BOOL:
		fprintf(f, "%s = %s", k->name, *(const int *)(const void *)at ? "true" : "false");
		break;
	case KT_DUR:
		format_duration_ms(*(const int64_t *)(const void *)at, buf, sizeof(buf));
		fprintf(f, "%s = \"%s\"", k->name, buf);
		break;
	case KT_SIZE:
		format_size(*(const uint64_t *)(const void *)at, buf, sizeof(buf));
		fprintf(f, "%s = \"%s\"", k->name, buf);
		break;
	case KT_ENUM:
		fprintf(f, "%s = \"%s\"", k->name, enum_name(k, at));
		break;
	case KT_GROUP:
	case KT_LIST:
		break;
	}
}

int schema_print_key(FILE *f, const char *pre, const struct key *k, const void *obj)
{
	const char *at = (const char *)obj + k->off;

	if (key_unset(k, at))
		return 0;
	fputs(pre, f);
	if (k->print) {
		k->print(f, k, obj);
		return 1;
	}
	print_value(f, k, at);
	fputc(';', f);
	if (k->secret) {
		/* the secret itself is never printed */
		fprintf(f, " # %s: (from ", k->secret);
		for (const char *p = *(char *const *)(const void *)at; *p; p++)
			fputc(iscntrl((unsigned char)*p) ? '?' : *p, f);
		fputc(')', f);
	}
	return 1;
}

/* Every printable key of g, one per line (inline 0) or on one line. */
void schema_print_keys(FILE *f, const char *indent, const struct group *g, const void *obj, int inline_)
{
	int first = 1;

	for (size_t i = 0; i < g->nkeys; i++) {
		if (schema_print_key(f, inline_ ? (first ? "" : " ") : indent, &g->keys[i], obj)) {
			first = 0;
			if (!inline_)
				fputc('\n', f);
		}
	}
}

/* A profile's group: graded numbers as (VALUE, "GRADE: source"); keys
 * whose value means "not set" (NaN, a negative duration) are left out. */
void schema_print_graded_keys(FILE *f, const char *indent, const struct group *g, const void *obj,
			      const struct cc_param *params, size_t nparams, const char *group, int index)
{
	for (size_t i = 0; i < g->nkeys; i++) {
		const struct key *k = &g->keys[i];
		const struct cc_param *pa = NULL;
		char *buf = NULL, *eq, *semi;
		size_t len = 0;
		FILE *m;

		if (k->kt == KT_DUR && *(const int64_t *)(const void *)((const char *)obj + k->off) < 0)
			continue;
		for (size_t j = 0; j < nparams; j++)
			if (params[j].grade && params[j].index == index && strcmp(params[j].group, group) == 0 &&
			    strcmp(params[j].key, k->name) == 0)
				pa = &params[j];
		if (!pa) {
			if (schema_print_key(f, indent, k, obj))
				fputc('\n', f);
			continue;
		}
		m = open_memstream(&buf, &len);
		if (!m)
			continue;
		schema_print_key(m, "", k, obj);
		fclose(m);
		eq = buf ? strstr(buf, " = ") : NULL;
		semi = buf ? strrchr(buf, ';') : NULL;
		if (eq && semi && semi > eq) {
			char *gs = xasprintf("%c%s%s", pa->grade, pa->source ? ": " : "", pa->source ? pa->source : "");
			fprintf(f, "%s%.*s = (%.*s, ", indent, (int)(eq - buf), buf, (int)(semi - eq - 3), eq + 3);
			schema_print_string(f, gs);
			fputs(");\n", f);
			free(gs);
		}
		free(buf);
	}
}

/* The groups in the order of the generated reference. */
static const struct group *const doc_groups[] = {
	&g_root, &g_log, &g_bus, &g_tcp, &g_rtu, &g_device, &g_point, &g_outputs, &g_influx, &g_influx2, &g_file,
	&g_webhook, &g_alerts_mqtt, &g_email, &g_telegram, &g_zalo, &g_sms,
	&g_journal, &g_control, &g_template,
	&g_mqtt, &g_mqtt_broker, &g_mqtt_sub, &g_mqtt_field,
	&g_profile, &g_limits, &g_model, &g_water, &g_chill, &g_room, &g_lot, &g_alarms, &g_flood, &g_notify, &g_rule,
	&g_process, &g_precool, &g_precool_fit, &g_carcass, &g_carcass_fit, &g_band, &g_fumigation, &g_exposure,
	&g_drying, &g_stage, &g_line, &g_web, &g_recipient, &g_route,
};

/* --- schema export ----------------------------------------------------- */

static const char *kt_doc(enum kt t)
{
	switch (t) {
	case KT_STR: return "string";
	case KT_NAME: return "name";
	case KT_PATH: return "path";
	case KT_INT: return "integer";
	case KT_DBL: return "number";
	case KT_BOOL: return "boolean";
	case KT_DUR: return "duration";
	case KT_SIZE: return "size";
	case KT_ENUM: return "enum";
	case KT_GROUP: return "group";
	case KT_LIST: return "list";
	}
	return "?";
}

void config_schema_foreach(void (*fn)(const struct config_key_doc *doc, void *arg), void *arg)
{
	for (size_t g = 0; g < ARRAY_SIZE(doc_groups); g++) {
		const struct group *gr = doc_groups[g];
		for (size_t i = 0; i < gr->nkeys; i++) {
			const struct key *k = &gr->keys[i];
			struct config_key_doc d;
			char range[256];

			key_range(k, range, sizeof(range), "|");
			d.group = gr->name;
			d.group_help = gr->help;
			d.key = k->name;
			d.type = kt_doc(k->kt);
			d.def = (k->flags & KF_REQ) ? NULL : k->def;
			d.range = range[0] ? range : NULL;
			d.required = !!(k->flags & KF_REQ);
			d.reloadable = !(k->flags & KF_RESTART);
			d.help = k->help;
			fn(&d, arg);
		}
	}
}

static void schema_print_one(const struct config_key_doc *d, void *arg)
{
	FILE *f = arg;

	fprintf(f, "%s%s%s (%s%s%s)\n", d->group, *d->group ? "." : "", d->key, d->type,
		d->required ? ", required" : "", d->reloadable ? "" : ", restart to change");
	if (d->def)
		fprintf(f, "    default: %s\n", d->def);
	if (d->range)
		fprintf(f, "    range:   %s\n", d->range);
	fprintf(f, "    %s\n", d->help);
}

void config_schema_print(FILE *f)
{
	config_schema_foreach(schema_print_one, f);
}

/* --- single values checked by the schema (coldchainctl's --rtu, --tcp) --- */

static const struct key *schema_key(const char *group, const char *key)
{
	for (size_t g = 0; g < ARRAY_SIZE(doc_groups); g++) {
		if (strcmp(doc_groups[g]->name, group) != 0)
			continue;
		for (size_t i = 0; i < doc_groups[g]->nkeys; i++)
			if (strcmp(doc_groups[g]->keys[i].name, key) == 0)
				return &doc_groups[g]->keys[i];
	}
	return NULL;
}

int config_key_parse_int(const char *group, const char *key, const char *text, int *out, char *msg, size_t len)
{
	const struct key *k = schema_key(group, key);
	char range[256], *end, *why;
	long long v;

	if (!k || k->kt != KT_INT) {
		snprintf(msg, len, "%s.%s is not an integer key of the schema", group, key);
		return -ENOENT;
	}
	key_range(k, range, sizeof(range), ", ");
	errno = 0;
	v = strtoll(text, &end, 10);
	if (!*text || *end || end == text || (!isdigit((unsigned char)*text) && *text != '-')) {
		snprintf(msg, len, "\"%s\" is not an integer (%s)", text, range);
		return -EINVAL;
	}
	if (errno == ERANGE) {
		snprintf(msg, len, "%s is out of range %s", text, range);
		return -EINVAL;
	}
	if ((why = int_bad(k, v, range))) {
		snprintf(msg, len, "%s", why);
		free(why);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

int config_key_parse_letter(const char *group, const char *key, char c, char *out, char *msg, size_t len)
{
	const struct key *k = schema_key(group, key);
	char range[256];
	size_t o = 0;

	if (!k || k->kt != KT_ENUM || k->store != ES_CHAR) {
		snprintf(msg, len, "%s.%s is not a one-letter key of the schema", group, key);
		return -ENOENT;
	}
	for (size_t i = 0; k->enums[i]; i++) {
		if (c && c == toupper((unsigned char)k->enums[i][0])) {
			*out = c;
			return 0;
		}
		o += (size_t)snprintf(range + o, sizeof(range) - o, "%s%c (%s)", i ? ", " : "",
				      toupper((unsigned char)k->enums[i][0]), k->enums[i]);
		if (o >= sizeof(range))
			break;
	}
	if (isprint((unsigned char)c))
		snprintf(msg, len, "'%c' is not one of: %s", c, range);
	else
		snprintf(msg, len, "byte 0x%02X is not one of: %s", (unsigned char)c, range);
	return -EINVAL;
}

int config_key_check_string(const char *group, const char *key, const char *text, char *msg, size_t len)
{
	const struct key *k = schema_key(group, key);
	char *why;

	if (!k || (k->kt != KT_STR && k->kt != KT_PATH && k->kt != KT_NAME)) {
		snprintf(msg, len, "%s.%s is not a string key of the schema", group, key);
		return -ENOENT;
	}
	if ((why = string_bad(k, text))) {
		snprintf(msg, len, "%s", why);
		free(why);
		return -EINVAL;
	}
	return 0;
}
