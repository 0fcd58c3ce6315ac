/* fuzz_control.c - libFuzzer target for the control socket's request
 * parser: any bytes as one request line must get a reply that is valid
 * UTF-8 and a JSON object with a boolean "ok", and never crash or leak.  The engine is not
 * running here, so engine commands answer "unavailable" after parsing. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/control.h"
#include "../../daemon/log.h"
#include "../../codec/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	int reload = 0;
	char *rep;
	cJSON *o;

	if (!quiet) {
		log_open(LOG_TARGET_STDERR, LOG_LVL_ERR);
		quiet = 1;
	}
	if (size > CONTROL_MAX_REQUEST)
		return 0;
	rep = control_request(NULL, NULL, (const char *)data, size, "fuzz", &reload);
	if (payload_utf8_check(rep, strlen(rep)) < 0)
		abort();
	o = cJSON_Parse(rep);
	if (!o || !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "ok")))
		abort();
	cJSON_Delete(o);
	cJSON_free(rep);
	return 0;
}
