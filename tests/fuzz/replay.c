/* replay.c - runs a libFuzzer target over its saved corpus without clang:
 * `make test` links every tests/fuzz/fuzz_*.c with this main (gcc, and
 * ASan/UBSan under `make check`) and feeds it each file of the directories
 * or files given.  Prints one PASS line per target; a crash is a failure
 * that tests/run.sh reports by exit status. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f) {
		printf("FAIL fuzz replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc(len > 0 ? (size_t)len : 1);
	if (!buf || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
		printf("FAIL fuzz replay: %s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	(*n)++;
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "fuzz";
	size_t n = 0;
	int bad = 0;

	for (int i = 2; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i], &n) < 0;
			continue;
		}
		d = opendir(argv[i]);
		while (d && (e = readdir(d)) != NULL) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			bad |= run_file(path, &n) < 0;
		}
		if (d)
			closedir(d);
	}
	if (n == 0) {
		printf("FAIL fuzz/%s: empty corpus\n", name);
		return 1;
	}
	if (!bad)
		printf("PASS fuzz/%s: %zu corpus inputs replayed without a crash\n", name, n);
	return bad;
}
