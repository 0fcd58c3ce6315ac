/* fuzz_payload.c - every MQTT payload parser and the topic matcher must
 * survive any bytes: no crash, no read outside the input, and their
 * promises hold (a number accepted is finite, an excerpt is printable ASCII
 * within its buffer, a JSON document frees cleanly, and what the in-place
 * reader codec/jsonscan.c accepts reads the same as through cJSON).  The first byte picks
 * the JSON path set; the rest is the payload (also used as a topic). */
#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../codec/lineproto.h"
#include "../../codec/payload.h"
#include "../../codec/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
	if (!cond)
		abort();
}

/* Through jsonscan (as opened) and through cJSON (forced): the same. */
static void json_same(const uint8_t *data, size_t size, const char *const *paths, size_t np)
{
	struct payload_json a, b;

	if (payload_json_open(&a, data, size, NULL) < 0)
		return;
	if (!a.root) {
		b = a;
		b.root = cJSON_ParseWithLength((const char *)data, size);
		must(b.root != NULL);
		for (size_t i = 0; i < np; i++) {
			double va, vb;
			int64_t ta, tb;
			int ra = payload_json_number(&a, paths[i], &va, NULL);
			must(ra == payload_json_number(&b, paths[i], &vb, NULL) && (ra < 0 || va == vb));
			ra = payload_json_time(&a, paths[i], PAYLOAD_T_AUTO, &ta, NULL);
			must(ra == payload_json_time(&b, paths[i], PAYLOAD_T_AUTO, &tb, NULL) && (ra < 0 || ta == tb));
		}
		payload_json_close(&b);
	}
	payload_json_close(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "t", "env.rh", "a.0.b", "AM2301.Temperature", "x.y.z.0.1", "" };
	struct payload_json *j = NULL;
	char ex[64];
	double v;
	int64_t ns;

	payload_utf8_check(data, size);
	if (payload_number(data, size, &v, NULL) == 0)
		must(isfinite(v));
	if (payload_bool(data, size, &v, NULL) == 0)
		must(v == 0 || v == 1);
	payload_time_ns(data, size, PAYLOAD_T_AUTO, &ns, NULL);
	payload_rfc3339_ns(data, size, &ns, NULL);
	{
		size_t n = payload_excerpt(data, size, 16, ex, sizeof(ex));
		must(n < sizeof(ex) && ex[n] == '\0' && strlen(ex) == n);
		for (size_t i = 0; i < n; i++)
			must(ex[i] >= 0x20 && ex[i] < 0x7f);
	}
	if (payload_json_parse(data, size, &j, NULL) == 0) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			if (payload_json_number(j, paths[i], &v, NULL) == 0)
				must(isfinite(v));
			payload_json_time(j, paths[i], (enum payload_tunit)(i % 5), &ns, NULL);
		}
		payload_json_free(j);
		json_same(data, size, paths, sizeof(paths) / sizeof(paths[0]));
	}
	/* the influx format: line by line through lp_parse_line */
	{
		const char *p = (const char *)data, *end = p + size;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			struct lp_point pt;
			const char *err;
			if (lp_parse_line(p, len, &pt, &err) == 0)
				lp_point_free(&pt);
			p = nl ? nl + 1 : end;
		}
	}
	/* topics: the input as a pattern, and as a topic against fixed patterns */
	{
		char *s = malloc(size + 1);
		struct topic_pat pat;
		const char *err, *vals[TOPIC_CAP_N];
		size_t lens[TOPIC_CAP_N];

		if (!s)
			return 0;
		memcpy(s, data, size);
		s[size] = '\0';
		if (topic_parse(s, &pat, &err) == 0) {
			topic_match(&pat, "a/b/c", 5, vals, lens);
			topic_free(&pat);
		}
		if (topic_parse("$share/g/site/{site}/{room}/+/#", &pat, &err) == 0) {
			if (topic_match(&pat, (const char *)data, size, vals, lens))
				for (int c = 0; c < TOPIC_CAP_N; c++)
					must(!vals[c] || (vals[c] >= (const char *)data &&
							  vals[c] + lens[c] <= (const char *)data + size));
			topic_free(&pat);
		}
		free(s);
	}
	return 0;
}
