/* load.c - the configuration's files: the file itself or the text given
 * for it, the @include pre-check (libconfig exit()s on some includes), the
 * CONFIG_MAX_* bounds, device templates (read once, checked once, copied
 * into each device that names them) and secret files. */
#include "config_int.h"

#include "../paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *path_join(const char *dir, const char *name)
{
	if (name[0] == '/' || strcmp(dir, ".") == 0)
		return xstrdup(name);
	return xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

/* The start of line (1-based) of text, or NULL past its end. */
const char *text_line(const char *text, int line)
{
	const char *p = text;

	for (int l = 1; l < line && p; l++)
		if ((p = strchr(p, '\n')))
			p++;
	return p;
}

/* The whole text of a configuration file (config_load_string's own text
 * for the top file), or NULL. */
char *read_text(struct ctx *c, const char *file)
{
	char *buf = NULL;
	size_t n = 0, cap = 0, r;
	FILE *f;

	if (c->text && strcmp(file, c->cfg->file) == 0)
		return xstrdup(c->text);
	if (!(f = fopen(file, "r")))
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r > 0 && n < (size_t)CONFIG_MAX_BYTES);
	fclose(f);
	buf[n] = '\0';
	return buf;
}


/* Reads the first line of a secret file (what: "password", "token") into *dst. */
void read_secret(struct ctx *c, const char *file, char **dst, const char *what, const config_setting_t *s,
			const char *path)
{
	const char *raw = config_setting_get_string(s);
	char *disp = path_join(c->dir, raw), buf[CONFIG_MAX_SECRET + 2];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err_at(c, s, path, "cannot read %s file %s: %s", what, disp, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_at(c, s, path, "%s file %s is not a regular file", what, disp);
		goto out;
	}
	if (st.st_mode & 077) {
		err_at(c, s, path, "%s file %s is readable by others (chmod 600 it)", what, disp);
		goto out;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		err_at(c, s, path, "cannot read %s file %s: %s", what, disp, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (buf[0] && buf[strlen(buf) - 1] == '\r')
		buf[strlen(buf) - 1] = '\0';
	if (strlen(buf) > CONFIG_MAX_SECRET)
		err_at(c, s, path, "%s file %s: the first line is longer than %d bytes", what, disp, CONFIG_MAX_SECRET);
	else if (!buf[0])
		err_at(c, s, path, "%s file %s is empty", what, disp);
	else
		*dst = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
out:
	if (fd >= 0)
		close(fd);
	free(disp);
}

/* password_file of group path (setting pw): it requires username (user);
 * the password is read now into *dst. */
void read_password(struct ctx *c, const struct seen *pw, const struct seen *user, const char *file, char **dst,
		   const char *path)
{
	char *kp;

	if (!pw->s)
		return;
	kp = key_path(path, "password_file");
	if (!user->s)
		err_at(c, pw->s, kp, "requires username");
	if (ok(pw))
		read_secret(c, file, dst, "password", pw->s, kp);
	free(kp);
}

/* A secret the configuration holds: wiped before it is freed. */
void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Reports file (the value of setting s, key of group path) when it cannot
 * be read, named as written (relative to the configuration's directory). */
void check_readable(struct ctx *c, const char *file, const config_setting_t *s, const char *path, const char *key)
{
	char *disp, *kp;

	if (access(file, R_OK) == 0)
		return;
	disp = path_join(c->dir, config_setting_get_string(s));
	kp = key_path(path, key);
	err_at(c, s, kp, "cannot read %s: %s", disp, strerror(errno));
	free(kp);
	free(disp);
}

/*
 * libconfig 1.5 exit()s when an @include names a directory (flex: "input in
 * flex scanner failed").  So every @include target is checked first, the
 * way libconfig will open it: include_dir + "/" + name.  Returns 0 when
 * parsing is safe.  (A commented-out @include in a block comment is
 * checked too: harmless unless it names a directory.)
 */
/* Appends file, as st shows it before libconfig reads it, to cfg->srcs
 * (an edit after this changes its times: the runtime file no longer
 * matches, never the other way round). */
static void src_record(struct ctx *c, const char *file, const struct stat *st)
{
	char *abs = realpath(file, NULL);
	struct cc_conf_src *s;

	if (!abs)
		return;
	c->cfg->srcs = xrealloc(c->cfg->srcs, (c->cfg->nsrcs + 1) * sizeof(*c->cfg->srcs));
	s = &c->cfg->srcs[c->cfg->nsrcs++];
	*s = (struct cc_conf_src){ .path = abs, .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino,
				   .size = (uint64_t)st->st_size,
				   .mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
				   .ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec,
				   .seen_ns = time_now_ns() };
}

static int includes_safe(struct ctx *c, const char *file, const char *shown, const char *incdir, int depth)
{
	FILE *f;
	struct stat fst;
	char *line = NULL;
	size_t cap = 0;
	int ln = 0, rc = 0;

	if (c->over)
		return -1;
	f = c->text && file == c->cfg->file ? fmemopen((void *)c->text, strlen(c->text), "r") : fopen(file, "r");
	if (!f)
		return 0; /* libconfig reports it */
	if (c->record_srcs && fstat(fileno(f), &fst) == 0)
		src_record(c, file, &fst);
	if (fstat(fileno(f), &fst) == 0 && S_ISREG(fst.st_mode) &&
	    (c->bytes += (uint64_t)fst.st_size) > CONFIG_MAX_BYTES) {
		err_file(c, shown, 1, "the configuration files add up to more than %u MiB (CONFIG_MAX_BYTES): refused",
			 CONFIG_MAX_BYTES >> 20);
		c->over = 1;
		fclose(f);
		return -1;
	}
	while (!c->over && getline(&line, &cap, f) >= 0) {
		char *p = line, *q, *target;
		struct stat st;

		ln++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "@include", 8) != 0)
			continue;
		p += 8;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '"' || !(q = strchr(p, '"')))
			continue;
		*q = '\0';
		if (++c->includes > CONFIG_MAX_INCLUDES) {
			err_file(c, shown, ln, "@include \"%s\": more than %d @include in all (CONFIG_MAX_INCLUDES): refused",
				 p, CONFIG_MAX_INCLUDES);
			c->over = 1;
			rc = -1;
			break;
		}
		target = xasprintf("%s/%s", incdir, p);
		if (stat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
			err_file(c, shown, ln, "@include \"%s\": not a regular file", p);
			rc = -1;
		} else if (depth < CONFIG_MAX_INCLUDE_DEPTH) { /* deeper: libconfig refuses it */
			char *name = path_join(incdir, p); /* as messages show it */
			if (includes_safe(c, target, name, incdir, depth + 1) < 0)
				rc = -1;
			free(name);
		}
		free(target);
	}
	free(line);
	fclose(f);
	return rc;
}

enum { XK_TEMPLATE, XK_N };
static const struct key tfile_keys[] = {
	[XK_TEMPLATE] = { .name = "template", .kt = KT_GROUP, .flags = KF_REQ, .help = "the template" },
};

enum { MK_NAME, MK_VENDOR, MK_MODEL, MK_MANUAL, MK_MAX_REGS, MK_MAX_GAP, MK_POINTS, MK_N };
static const struct key template_keys[] = {
	[MK_NAME] = { .name = "name", .kt = KT_STR, .off = OFF(tmpl, tname),
		      .help = "the template's name: its file name without .conf (anything else is refused)" },
	[MK_VENDOR] = { .name = "vendor", .kt = KT_STR, .off = OFF(tmpl, vendor), .help = "manufacturer" },
	[MK_MODEL] = { .name = "model", .kt = KT_STR, .off = OFF(tmpl, model), .help = "model" },
	[MK_MANUAL] = { .name = "manual", .kt = KT_STR, .off = OFF(tmpl, manual),
			.help = "where the register map comes from (document, URL)" },
	[MK_MAX_REGS] = { .name = "max_registers", .kt = KT_INT, .flags = KF_DYN, .off = OFF(tmpl, max_registers),
			  .def = "none", .min = 1, .max = 125,
			  .help = "device quirk: registers per request (a device's own max_registers wins)" },
	[MK_MAX_GAP] = { .name = "max_gap", .kt = KT_INT, .flags = KF_DYN, .off = OFF(tmpl, max_gap), .def = "none",
			 .min = 0, .max = 125, .help = "device quirk: max_gap (a device's own max_gap wins)" },
	[MK_POINTS] = { .name = "points", .kt = KT_LIST,
			.help = "points, with the keys of group modbus.devices.points" },
};

static const struct group g_tfile = GROUP("", tfile_keys, "template file");
const struct group g_template = GROUP("template", template_keys, "device template file <template_dir>/NAME.conf");
_Static_assert(ARRAY_SIZE(tfile_keys) == XK_N, "tfile_keys");
_Static_assert(ARRAY_SIZE(template_keys) == MK_N, "template_keys");

static void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->file);
	free(t->tname);
	free(t->vendor);
	free(t->model);
	free(t->manual);
	for (size_t i = 0; i < t->npoints; i++)
		point_free(&t->points[i]);
	free(t->points);
	free(t);
}

/* The keys of template file t, parsed into root. */
static void tmpl_load_keys(struct ctx *c, struct tmpl *t, const config_setting_t *root)
{
	struct seen sf[MAX_KEYS], sm[MAX_KEYS];

	schema_apply(c, root, root, &g_tfile, t, "", sf);
	if (!ok(&sf[XK_TEMPLATE]))
		return;
	schema_apply(c, sf[XK_TEMPLATE].s, root, &g_template, t, "template", sm);
	if (ok(&sm[MK_NAME]) && strcmp(t->tname, t->name) != 0)
		err_at(c, sm[MK_NAME].s, "template.name",
		       "\"%s\" differs from the file name %s.conf: a template's name is its file name without .conf",
		       t->tname, t->name);
	if (!ok(&sm[MK_MAX_REGS]))
		t->max_registers = 0;
	if (!ok(&sm[MK_MAX_GAP]))
		t->max_gap = -1;
	if (ok(&sm[MK_POINTS])) {
		size_t n = (size_t)config_setting_length(sm[MK_POINTS].s);
		t->points = xcalloc(n + 1, sizeof(*t->points));
		load_points(c, sm[MK_POINTS].s, "template.points", t->points, &t->npoints, NULL, NULL);
	}
}

/* Parses and checks the readable template file t; t->ok when it is valid. */
static void tmpl_read(struct ctx *c, struct tmpl *t)
{
	const char *save_file = c->cur_file, *save_inc = c->cur_incdir;
	size_t before = c->nerr;
	config_t lc;

	c->cur_file = t->file;
	c->cur_incdir = c->tdir;
	config_init(&lc);
	config_set_include_dir(&lc, c->tdir);
	if (includes_safe(c, t->file, t->file, c->tdir, 0) < 0) {
		/* reported */
	} else if (!config_read_file(&lc, t->file)) {
		err_parse(c, &lc);
	} else {
		tmpl_load_keys(c, t, config_root_setting(&lc));
	}
	config_destroy(&lc);
	c->cur_file = save_file;
	c->cur_incdir = save_inc;
	t->ok = c->nerr == before;
}

/* Reads, validates and caches template name; reports a missing file at the
 * device's template setting ref (each time), errors inside it once. */
struct tmpl *tmpl_get(struct ctx *c, const char *name, const config_setting_t *ref, const char *refpath)
{
	struct tmpl *t = NULL;
	struct stat st;
	char *fname;

	for (size_t i = 0; i < c->ntmpls; i++)
		if (strcmp(c->tmpls[i]->name, name) == 0)
			t = c->tmpls[i];
	if (!t) {
		t = xcalloc(1, sizeof(*t));
		t->name = xstrdup(name);
		fname = xasprintf("%s.conf", name);
		t->file = path_join(c->tdir, fname);
		free(fname);
		t->max_gap = -1;
		c->tmpls = xrealloc(c->tmpls, (c->ntmpls + 1) * sizeof(*c->tmpls));
		c->tmpls[c->ntmpls++] = t;

		if (stat(t->file, &st) < 0)
			t->err = errno;
		else if (!S_ISREG(st.st_mode))
			t->err = EISDIR;
		else if (access(t->file, R_OK) < 0)
			t->err = errno;
		if (!t->err)
			tmpl_read(c, t);
	}
	if (t->err) {
		char *kp = xstrdup(refpath);
		err_at(c, ref, kp, "template \"%s\": cannot read %s: %s", name, t->file,
		       t->err == EISDIR ? "not a regular file" : strerror(t->err));
		free(kp);
	}
	return t;
}

/* The context for loading path (text: config_load_string's, else NULL). */
static void ctx_init(struct ctx *c, const char *path, const char *text)
{
	const char *slash = strrchr(path, '/');
	char cwd[4096];

	memset(c, 0, sizeof(*c));
	c->cfg = xcalloc(1, sizeof(*c->cfg));
	c->cfg->file = xstrdup(path);
	if (!slash)
		c->dir_buf = xstrdup(".");
	else if (slash == path)
		c->dir_buf = xstrdup("/");
	else
		c->dir_buf = xasprintf("%.*s", (int)(slash - path), path);
	c->dir = c->dir_buf;
	if (c->dir[0] == '/')
		c->absdir = xstrdup(c->dir);
	else if (getcwd(cwd, sizeof(cwd)))
		c->absdir = strcmp(c->dir, ".") == 0 ? xstrdup(cwd) : path_join(cwd, c->dir);
	else
		c->absdir = xstrdup(c->dir); /* cannot do better: stays relative */
	c->cur_file = path;
	c->cur_incdir = c->dir;
	file_intern(c, path);
	if (text) {
		c->text = text;
		c->src_name = xstrdup(path);
		c->src = xstrdup(text);
	}
}

static void ctx_free(struct ctx *c)
{
	free(c->errs);
	for (size_t i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	for (size_t i = 0; i < c->ntmpls; i++)
		tmpl_free(c->tmpls[i]);
	free(c->tmpls);
	names_free(&c->buses);
	names_free(&c->devices);
	names_free(&c->outputs);
	free(c->src_name);
	free(c->src);
	free(c->dir_buf);
	free(c->absdir);
	free(c->tdir_buf);
}

/* Reads and parses path (or text) and loads its root into c->cfg. */
static void load_file(struct ctx *c, const char *path, const char *text)
{
	struct stat st;
	config_t lc;
	int rc;

	if (!text && stat(path, &st) < 0) {
		err_file(c, path, 1, "cannot read: %s", strerror(errno));
		return;
	}
	if (!text && !S_ISREG(st.st_mode)) {
		err_file(c, path, 1, "cannot read: not a regular file");
		return;
	}
	config_init(&lc);
	config_set_include_dir(&lc, c->dir);
	c->record_srcs = !text;
	rc = includes_safe(c, c->cfg->file, path, c->dir, 0);
	c->record_srcs = 0;
	if (rc < 0) {
		/* reported */
	} else if (!(text ? config_read_string(&lc, text) : config_read_file(&lc, path))) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			err_file(c, path, 1, "cannot read: %s", strerror(errno ? errno : EIO));
		else
			err_parse(c, &lc);
	} else {
		load_root(c, config_root_setting(&lc));
	}
	config_destroy(&lc);
}

/* text: config_load_string's, else NULL (the file path is read). */
static int load(const char *path, const char *text, struct cc_config **out, struct cc_errors *e)
{
	struct ctx c;
	int rc = 0;

	*out = NULL;
	ctx_init(&c, path, text);
	load_file(&c, path, text);
	err_flush(&c, e);
	if (c.nerr) {
		config_free(c.cfg);
		rc = -EINVAL;
	} else {
		*out = c.cfg;
	}
	ctx_free(&c);
	return rc;
}

int config_load(const char *path, struct cc_config **out, struct cc_errors *e)
{
	return load(path, NULL, out, e);
}

int config_load_string(const char *text, const char *name, struct cc_config **out, struct cc_errors *e)
{
	return load(name, text, out, e);
}

/* The path of key (a string of the root, "control.socket" or "state_dir")
 * in lc as config_load would store it (relative to the file's directory),
 * NULL when unset; -EINVAL when set but not a non-empty string. */
static int peek_path(struct ctx *c, config_t *lc, const char *key, char **out)
{
	const config_setting_t *s = config_lookup(lc, key);
	const char *v;

	*out = NULL;
	if (!s)
		return 0;
	v = config_setting_get_string(s);
	if (!v || !*v)
		return -EINVAL;
	*out = path_join(c->absdir, v);
	return 0;
}

/* coldchainctl's way to its socket: only the two keys it needs, without
 * the schema's checks of the rest (a hub's configuration is megabytes).
 * The same safety as config_load before libconfig reads a byte. */
int config_peek_socket(const char *path, char **out, struct cc_errors *e)
{
	struct ctx c;
	config_t lc;
	char *sock = NULL, *state = NULL;
	int rc = -EINVAL;

	*out = NULL;
	ctx_init(&c, path, NULL);
	config_init(&lc);
	config_set_include_dir(&lc, c.dir);
	if (includes_safe(&c, c.cfg->file, path, c.dir, 0) < 0)
		goto out;
	if (!config_read_file(&lc, path)) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			err_file(&c, path, 1, "cannot read: %s", strerror(errno ? errno : EIO));
		else
			err_parse(&c, &lc);
		goto out;
	}
	if (peek_path(&c, &lc, "control.socket", &sock) < 0 || peek_path(&c, &lc, "state_dir", &state) < 0) {
		rc = -ENOENT; /* the full load says what is wrong */
		goto out;
	}
	*out = sock ? sock : xasprintf("%s/coldchaind.sock", state ? state : CC_STATE_DIR);
	sock = NULL;
	rc = 0;
out:
	config_destroy(&lc);
	err_flush(&c, e);
	free(sock);
	free(state);
	config_free(c.cfg);
	ctx_free(&c);
	return rc;
}
