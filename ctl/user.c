/* user.c - `coldchainctl user add|del|list`: adds, replaces or removes a
 * `name:hash:role` line of the web page's users file, hashing the password
 * with yescrypt, keeping every other line and comment, and replacing the
 * file atomically (temp file, fsync, rename) with mode 0600 and its owner. */
#include "user.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/util.h"
#include "../daemon/web/auth.h"

#define PROG "coldchainctl user"

struct user_opts {
	const char *file, *name, *conf;
	enum auth_role role;
};

/* The account a users file created by root is given to: the daemon's. */
struct users_owner {
	uid_t uid;
	gid_t gid;
	char name[64]; /* "": none (root keeps it) */
	int created;   /* set by users_rewrite: the file was new */
};

static const struct option user_longopts[] = {
	{ "role", required_argument, NULL, 'r' },
	{ "file", required_argument, NULL, 'f' },
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void user_usage(FILE *f)
{
	fputs("usage: coldchainctl user add NAME [--role operator|viewer] [--file PATH] [-c CONFIG]\n"
	      "       coldchainctl user del NAME [--file PATH]\n"
	      "       coldchainctl user list [--file PATH]\n"
	      "The password is read twice from the terminal (not shown), or once from\n"
	      "standard input when it is not a terminal.  The default file is " CTL_USERS_FILE ";\n"
	      "the default role is viewer.  The daemon reads the file again on SIGHUP.\n"
	      "Run as root, add gives a file it creates to the daemon's account: the `user`\n"
	      "key of -c CONFIG, else coldchaind when that account exists (mode 0600).\n",
	      f);
}

/* Options anywhere; NAME the one operand when want_name.  0, 1 (--help
 * shown) or 2 (usage error, told). */
static int user_parse(int argc, char **argv, int want_name, struct user_opts *o)
{
	char nb[32];
	int opt, idx = -1;

	o->file = CTL_USERS_FILE;
	o->name = NULL;
	o->conf = NULL;
	o->role = AUTH_ROLE_VIEWER;
	optind = 1;
	while ((opt = getopt_long(argc, argv, want_name == 2 ? ":hc:" : ":h", user_longopts, &idx)) != -1) {
		if (opt == 'h') {
			user_usage(stdout);
			return 1;
		}
		if (opt == 'f')
			o->file = optarg;
		else if (opt == 'c' && want_name == 2) /* add only */
			o->conf = optarg;
		else if (opt == 'r' && !(o->role = auth_role_parse(optarg)))
			return ctl_opt_invalid(PROG, ctl_opt_name(user_longopts, idx, opt, nb, sizeof(nb)), optarg,
					       "viewer or operator");
		else if (opt != 'r' && !(opt == 'c' && want_name == 2))
			return ctl_opt_refused(PROG, user_longopts, opt, argv);
		idx = -1;
	}
	if (want_name && optind == argc - 1)
		o->name = argv[optind];
	else if (optind != argc || want_name) {
		fprintf(stderr, "%s %s: %s\n", PROG, argv[0], want_name ? "needs one NAME" : "takes no NAME");
		user_usage(stderr);
		return 2;
	}
	if (o->name && !auth_name_valid(o->name))
		return ctl_opt_invalid(PROG, "NAME", o->name, "1 to 64 of A-Z a-z 0-9 . _ -");
	return 0;
}

/* One line of f without its newline into buf (n bytes): 0, or -1 at EOF,
 * -2 when the line is too long. */
static int read_line(FILE *f, char *buf, size_t n)
{
	size_t len;

	if (!fgets(buf, (int)n, f))
		return -1;
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (len == n - 1 && !feof(f))
		return -2;
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return 0;
}

/* Reads the password: twice without echo on a terminal, else one line. */
static int read_password(const char *name, char *pw, size_t n)
{
	char again[AUTH_PASSWORD_MAX + 2];
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), rc;

	if (!tty) {
		rc = read_line(stdin, pw, n);
	} else {
		if (tcgetattr(STDIN_FILENO, &old) < 0)
			return -errno;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fprintf(stderr, "Password for %s: ", name);
		rc = read_line(stdin, pw, n);
		if (rc == 0) {
			fputs("Again: ", stderr);
			rc = read_line(stdin, again, sizeof(again));
			if (rc == 0 && strcmp(pw, again) != 0)
				rc = -3;
		}
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		explicit_bzero(again, sizeof(again));
	}
	if (rc == 0 && strlen(pw) > AUTH_PASSWORD_MAX)
		rc = -2;
	if (rc == 0 && !pw[0])
		rc = -4;
	if (rc)
		fprintf(stderr, "%s add: %s\n", PROG,
			rc == -1 ? "no password given" : rc == -2 ? "the password is longer than 1024 bytes" :
			rc == -3 ? "the two passwords differ" : "the password is empty");
	return rc ? -EINVAL : 0;
}

/* The yescrypt hash of pw into out (CRYPT_OUTPUT_SIZE bytes). */
static int hash_password(const char *pw, char *out)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	int rc = -EINVAL;

	if (!cd)
		return -ENOMEM;
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) && crypt_rn(pw, salt, cd, sizeof(*cd)) &&
	    strncmp(cd->output, "$y$", 3) == 0) {
		strlcpy_cc(out, cd->output, CRYPT_OUTPUT_SIZE);
		rc = 0;
	} else {
		rc = errno ? -errno : -EINVAL;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* The name a line of the file is about, into nb; 0 for comments, blanks. */
static int line_name(const char *line, char *nb, size_t n)
{
	size_t k;

	line += strspn(line, " \t");
	if (!*line || *line == '#')
		return 0;
	k = strcspn(line, ":");
	if (k >= n)
		k = n - 1;
	memcpy(nb, line, k);
	nb[k] = '\0';
	return 1;
}

/* Copies in to out, putting repl (NULL: nothing) where NAME's line was, or
 * at the end when there was none and repl is set.  1 found, 0 not, -1 error. */
static int users_copy(FILE *in, FILE *out, const char *file, const char *name, const char *repl)
{
	char line[4096], nb[AUTH_NAME_MAX + 2];
	int found = 0, lineno = 0, rc;

	while (in && (rc = read_line(in, line, sizeof(line))) != -1) {
		lineno++;
		if (rc == -2) {
			fprintf(stderr, "%s: %s:%d: line longer than %zu bytes; file left unchanged\n", PROG, file,
				lineno, sizeof(line) - 1);
			return -1;
		}
		if (line_name(line, nb, sizeof(nb)) && strcmp(nb, name) == 0) {
			if (!found++ && repl)
				fprintf(out, "%s\n", repl);
			continue;
		}
		fprintf(out, "%s\n", line);
	}
	if (!found && repl)
		fprintf(out, "%s\n", repl);
	explicit_bzero(line, sizeof(line));
	return found ? 1 : 0;
}

/* Rewrites file atomically, NAME's line replaced by repl (NULL: removed).
 * 1 when NAME was there, 0 when not, -1 on an error (told). */
static int users_rewrite(const char *file, const char *name, const char *repl, struct users_owner *ow)
{
	char *tmp = xasprintf("%s.XXXXXX", file), *dircopy = xstrdup(file);
	/* Two adds at once must not lose one: writers take turns on the
	 * directory (the file itself is replaced, so it cannot hold the lock). */
	int fd = -1, rc = -1, dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FILE *in = (dfd < 0 || flock(dfd, LOCK_EX) == 0) ? fopen(file, "re") : NULL, *out = NULL;
	struct stat st;

	if (!in && (errno != ENOENT || !repl)) {
		fprintf(stderr, "%s: %s: %s\n", PROG, file, strerror(errno));
		goto out;
	}
	if (in && (fstat(fileno(in), &st) < 0 || !S_ISREG(st.st_mode))) {
		fprintf(stderr, "%s: %s: not a regular file\n", PROG, file);
		goto out;
	}
	/* mkstemp makes it 0600 already; the owner stays the old file's. */
	if ((fd = mkstemp(tmp)) < 0 || !(out = fdopen(fd, "w"))) {
		fprintf(stderr, "%s: cannot create %s: %s\n", PROG, tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (in && geteuid() == 0 && fchown(fileno(out), st.st_uid, st.st_gid) < 0)
		fprintf(stderr, "%s: warning: cannot keep the owner of %s: %s\n", PROG, file, strerror(errno));
	if (!in && ow)
		ow->created = 1;
	if (!in && ow && ow->name[0] && fchown(fileno(out), ow->uid, ow->gid) < 0) {
		fprintf(stderr, "%s: cannot give %s to %s: %s\n", PROG, file, ow->name, strerror(errno));
		goto out;
	}
	rc = users_copy(in, out, file, name, repl);
	if (rc >= 0 && (fchmod(fileno(out), 0600) < 0 || fflush(out) != 0 || fsync(fileno(out)) < 0 ||
			rename(tmp, file) < 0)) {
		fprintf(stderr, "%s: cannot write %s: %s\n", PROG, file, strerror(errno));
		rc = -1;
	}
	if (rc >= 0 && dfd >= 0)
		fsync(dfd);
out:
	if (rc < 0 && (out || fd >= 0))
		unlink(tmp);
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	if (in)
		fclose(in);
	if (dfd >= 0)
		close(dfd); /* and the lock with it */
	free(tmp);
	free(dircopy);
	return rc;
}

/* Run as root: the daemon's account, to own a users file add creates (the
 * daemon, once it has dropped to it, must read the 0600 file): the `user`
 * (and `group`) key of conf, else coldchaind when that account exists.
 * 0 (ow->name "" when root keeps it), or -1 (told). */
static int users_owner_find(const char *conf, struct users_owner *ow)
{
	struct cc_config *cfg = NULL;
	const char *user = "coldchaind", *group = NULL;
	const struct passwd *pw;
	const struct group *gr;
	int rc = -1;

	memset(ow, 0, sizeof(*ow));
	if (geteuid() != 0)
		return 0;
	if (conf) {
		struct cc_errors e = { 0 };
		if (config_load(conf, &cfg, &e) < 0) {
			errors_print(&e, stderr);
			errors_free(&e);
			fprintf(stderr, "%s add: invalid configuration %s\n", PROG, conf);
			return -1;
		}
		user = cfg->user; /* NULL: the daemon stays root */
		group = cfg->group;
	}
	if (!user || !(pw = getpwnam(user))) {
		rc = conf && user ? -1 : 0;
		if (rc)
			fprintf(stderr, "%s add: the configuration's user %s is not an account here\n", PROG, user);
		goto out;
	}
	ow->uid = pw->pw_uid;
	ow->gid = pw->pw_gid;
	if (group && !(gr = getgrnam(group))) {
		fprintf(stderr, "%s add: the configuration's group %s is not a group here\n", PROG, group);
		goto out;
	}
	if (group)
		ow->gid = gr->gr_gid;
	snprintf(ow->name, sizeof(ow->name), "%s", user);
	rc = 0;
out:
	config_free(cfg);
	return rc;
}

/* Says who owns the file add has just created. */
static void users_owner_say(const char *file, const struct users_owner *ow)
{
	if (!ow->created)
		return;
	if (ow->name[0])
		printf("users file %s created: owner %s (the daemon's account), mode 0600\n", file, ow->name);
	else if (geteuid() == 0)
		printf("users file %s created: owner root, mode 0600 (no daemon account: no `user` in the "
		       "configuration, or no coldchaind account without -c)\n",
		       file);
	else
		printf("users file %s created: mode 0600\n", file);
}

static int cmd_user_add(int argc, char **argv)
{
	char pw[AUTH_PASSWORD_MAX + 2], hash[CRYPT_OUTPUT_SIZE], *line;
	struct user_opts o;
	struct users_owner ow;
	int rc;

	if ((rc = user_parse(argc, argv, 2, &o)))
		return rc == 1 ? 0 : rc;
	if (users_owner_find(o.conf, &ow) < 0)
		return 1;
	if (read_password(o.name, pw, sizeof(pw)))
		return 1;
	rc = hash_password(pw, hash);
	explicit_bzero(pw, sizeof(pw));
	if (rc) {
		fprintf(stderr, "%s add: cannot hash the password: %s\n", PROG, strerror(-rc));
		return 1;
	}
	line = xasprintf("%s:%s:%s", o.name, hash, auth_role_name(o.role));
	rc = users_rewrite(o.file, o.name, line, &ow);
	free(line);
	if (rc < 0)
		return 1;
	printf("user %s (%s) %s %s\n", o.name, auth_role_name(o.role), rc ? "replaced in" : "added to", o.file);
	users_owner_say(o.file, &ow);
	return 0;
}

static int cmd_user_del(int argc, char **argv)
{
	struct user_opts o;
	int rc;

	if ((rc = user_parse(argc, argv, 1, &o)))
		return rc == 1 ? 0 : rc;
	rc = users_rewrite(o.file, o.name, NULL, NULL);
	if (rc < 0)
		return 1;
	if (rc == 0) {
		fprintf(stderr, "%s del: no user %s in %s\n", PROG, o.name, o.file);
		return 1;
	}
	printf("user %s removed from %s\n", o.name, o.file);
	return 0;
}

/* Checks the file as the daemon would, then prints NAME ROLE lines. */
static int cmd_user_list(int argc, char **argv)
{
	char line[4096], nb[AUTH_NAME_MAX + 2], *err = NULL;
	struct user_opts o;
	struct auth *a;
	FILE *f;
	int rc;

	if ((rc = user_parse(argc, argv, 0, &o)))
		return rc == 1 ? 0 : rc;
	if (!(a = auth_new(NULL))) {
		fprintf(stderr, "%s list: %s\n", PROG, strerror(errno));
		return 1;
	}
	rc = auth_users_load(a, o.file, &err);
	auth_free(a);
	if (rc) {
		fputs(err ? err : "?\n", stderr);
		free(err);
		return 1;
	}
	if (!(f = fopen(o.file, "re")))
		return 1;
	while (read_line(f, line, sizeof(line)) == 0)
		if (line_name(line, nb, sizeof(nb)) && strrchr(line, ':'))
			printf("%s %s\n", nb, strrchr(line, ':') + 1);
	fclose(f);
	return 0;
}

const struct ctl_cmd ctl_user_cmds[] = {
	{ "add", NULL, cmd_user_add, "NAME [--role operator|viewer] [--file PATH] [-c CONFIG]",
	  "add a web page user or set a new password or role (the password is\n"
	  "      read twice from the terminal, or once from standard input)",
	  "--role=operator|viewer --file=PATH -c=CONFIG --config=CONFIG", 0 },
	{ "del", NULL, cmd_user_del, "NAME [--file PATH]", "remove a web page user", "--file=PATH", 0 },
	{ "list", NULL, cmd_user_list, "[--file PATH]", "check the users file and list its users and roles",
	  "--file=PATH", 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 },
};
