/* test_runfile.c - the runtime file (daemon/runfile.c): coldchainctl takes
 * its socket only while the configuration and every file it includes are
 * the ones the daemon read; anything else (an edit, a truncated or foreign
 * file, a socket gone) sends it back to parsing. */
#include "../../daemon/runfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/util.h"
#include "testlib.h"

static char dir[64], conf[128], inc[128], sock[128], run[128];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *buf = xmalloc(RUNFILE_MAX_BYTES + 1);

	*n = f ? fread(buf, 1, RUNFILE_MAX_BYTES, f) : 0;
	buf[*n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/* The daemon's side: load conf, publish it naming sock.  0 or -errno. */
static int publish(char **written)
{
	struct cc_config *cfg = NULL;
	struct cc_errors e = { 0 };
	int rc;

	if (config_load(conf, &cfg, &e) < 0) {
		for (size_t i = 0; i < e.n; i++)
			printf("  %s\n", e.msg[i]);
		errors_free(&e);
		return -EINVAL;
	}
	rc = runfile_write(cfg, sock, getuid(), (gid_t)-1, written);
	config_free(cfg);
	return rc;
}

static void setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	char *text;

	if (tl_mkdtemp(dir, sizeof(dir), "runfile") < 0)
		abort();
	snprintf(conf, sizeof(conf), "%s/main.conf", dir);
	snprintf(inc, sizeof(inc), "%s/inc.conf", dir);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
	mkdir(run, 0755);
	setenv(RUNFILE_ENV, run, 1);
	text = xasprintf("site = \"u\";\nstate_dir = \"%s\";\n@include \"inc.conf\"\n"
			 "outputs = { file = ( { name = \"f\"; path = \"%s/out.lp\"; } ); };\n",
			 dir, dir);
	put(conf, text);
	free(text);
	text = xasprintf("control = { socket = \"%s\"; };\n", sock);
	put(inc, text);
	free(text);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, sock);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	close(fd); /* the socket file stays: what lookup checks */
}

static void test_an_unchanged_configuration_gives_the_published_socket_mode_0640(void)
{
	char *w = NULL, *s;
	const char *why = NULL;
	struct stat st;

	CHECK_INT(publish(&w), 0);
	CHECK(w && stat(w, &st) == 0 && (st.st_mode & 07777) == 0640);
	s = runfile_lookup(conf, &why);
	CHECK_STR(s, sock);
	free(s);
	runfile_remove(w);
	s = runfile_lookup(conf, &why);
	CHECK(s == NULL);
	CHECK_STR(why, "no runtime file for it");
	free(w);
}

/* Another local user must not plant a runtime file leading coldchainctl to
 * a socket of theirs: a file or directory others may write is not trusted. */
static void test_a_runtime_file_others_may_write_is_not_trusted(void)
{
	char *w = NULL, *s;
	const char *why = NULL;

	CHECK_INT(publish(&w), 0);
	CHECK(w && chmod(w, 0662) == 0);
	s = runfile_lookup(conf, &why);
	CHECK(s == NULL);
	CHECK_STR(why, "the runtime file or its directory may be written by another user: not trusted");
	free(s);
	CHECK(chmod(w, 0640) == 0 && chmod(run, 01777) == 0); /* a shared directory, as /tmp */
	s = runfile_lookup(conf, &why);
	CHECK(s == NULL);
	CHECK_STR(why, "the runtime file or its directory may be written by another user: not trusted");
	free(s);
	CHECK(chmod(run, 0755) == 0);
	s = runfile_lookup(conf, &why);
	CHECK_STR(s, sock);
	free(s);
	runfile_remove(w);
	free(w);
}

static void test_an_edit_of_the_file_or_its_include_is_not_trusted(void)
{
	char *w = NULL, *s, *text;
	const char *why = NULL;
	FILE *f;

	CHECK_INT(publish(&w), 0);
	text = xasprintf("control = { socket = \"%s\"; };\n", sock); /* the same bytes again */
	put(inc, text);
	free(text);
	s = runfile_lookup(conf, &why);
	CHECK(s == NULL);
	CHECK(why && strstr(why, "changed"));
	free(w);
	CHECK_INT(publish(&w), 0); /* a reload: trusted again */
	free(s);
	s = runfile_lookup(conf, &why);
	CHECK_STR(s, sock);
	free(s);
	f = fopen(conf, "a"); /* the main file */
	fputs("# edited\n", f);
	fclose(f);
	s = runfile_lookup(conf, &why);
	CHECK(s == NULL);
	runfile_remove(w);
	free(w);
}

static void test_a_truncated_foreign_or_oversized_file_is_not_trusted(void)
{
	char *w = NULL, *s, *text, *big;
	const char *why = NULL;
	size_t n;
	FILE *f;

	CHECK_INT(publish(&w), 0);
	CHECK(w != NULL);
	text = slurp(w, &n);
	CHECK(text && n > 4 && strcmp(text + n - 4, "end\n") == 0);
	text[n - 4] = '\0'; /* cut before "end" */
	put(w, text);
	s = runfile_lookup(conf, &why);
	CHECK(s == NULL);
	CHECK_STR(why, "the runtime file is malformed");
	put(w, "socket /tmp/elsewhere.sock\nend\n"); /* no magic line */
	CHECK(runfile_lookup(conf, &why) == NULL);
	text[n - 4] = 'e';
	put(w, text);
	s = runfile_lookup(conf, &why); /* whole again: trusted */
	CHECK_STR(s, sock);
	free(s);
	f = fopen(w, "a");
	fputs("src 1 2 3 4 5 /etc/passwd\n", f); /* anything after "end" */
	fclose(f);
	CHECK(runfile_lookup(conf, &why) == NULL);
	big = xmalloc(RUNFILE_MAX_BYTES + 2);
	memset(big, '#', RUNFILE_MAX_BYTES + 1);
	big[RUNFILE_MAX_BYTES + 1] = '\0';
	put(w, big);
	CHECK(runfile_lookup(conf, &why) == NULL);
	free(big);
	free(text);
	runfile_remove(w);
	free(w);
}

static void test_a_gone_socket_is_not_given(void)
{
	char *w = NULL;
	const char *why = NULL;

	CHECK_INT(publish(&w), 0);
	unlink(sock);
	CHECK(runfile_lookup(conf, &why) == NULL);
	CHECK_STR(why, "the socket the runtime file names is gone");
	runfile_remove(w);
	free(w);
}

static void test_without_the_variable_only_a_socket_in_the_run_directory_is_published(void)
{
	char *w = NULL;

	unsetenv(RUNFILE_ENV);
	CHECK_INT(publish(&w), -ENOENT); /* the socket is in /tmp: /run/coldchaind is left alone */
	CHECK(w == NULL);
	setenv(RUNFILE_ENV, run, 1);
}

/* Whole-second times (as some file systems keep them): an mtime in the
 * second the file was read could hide an edit, so it is not vouched for. */
static void test_whole_second_times_close_to_the_read_are_not_vouched_for(void)
{
	struct timespec ts[2] = { { .tv_sec = time(NULL), .tv_nsec = 0 }, { .tv_sec = time(NULL), .tv_nsec = 0 } };
	char *w = NULL, *s;
	const char *why = NULL;

	CHECK_INT(utimensat(AT_FDCWD, inc, ts, 0), 0);
	CHECK_INT(publish(&w), -EAGAIN);
	CHECK(w == NULL && runfile_lookup(conf, &why) == NULL);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 10;
	CHECK_INT(utimensat(AT_FDCWD, inc, ts, 0), 0);
	CHECK_INT(publish(&w), 0);
	s = runfile_lookup(conf, &why);
	CHECK_STR(s, sock);
	free(s);
	runfile_remove(w);
	free(w);
}

int main(void)
{
	tl_prog = "runfile";
	setup();
	RUN(test_an_unchanged_configuration_gives_the_published_socket_mode_0640);
	RUN(test_an_edit_of_the_file_or_its_include_is_not_trusted);
	RUN(test_a_runtime_file_others_may_write_is_not_trusted);
	RUN(test_a_truncated_foreign_or_oversized_file_is_not_trusted);
	RUN(test_without_the_variable_only_a_socket_in_the_run_directory_is_published);
	RUN(test_whole_second_times_close_to_the_read_are_not_vouched_for);
	RUN(test_a_gone_socket_is_not_given);
	tl_rmtree(dir);
	return TL_DONE();
}
