/* jsonw.h - a small JSON writer into one growable buffer, for replies too
 * large to build as a cJSON tree first (the engine's status at a hub).
 * Pure: no I/O.  Its text is what cJSON_PrintUnformatted writes for the same
 * values (strings escaped as cJSON does, NaN and infinities as null), except
 * that a byte that is not valid UTF-8 is written \ufffd (as the control
 * socket's replies always had it) and that a number is printed with the
 * fewest digits that read back as the same double: cJSON's own %1.15g when
 * that is exact, else 16 or 17 digits (cJSON accepts %1.15g within an
 * epsilon: 0.1 + 0.2 as 0.3, another double). */
#ifndef CC_JSONW_H
#define CC_JSONW_H

#include <stddef.h>

struct jsonw {
	char *buf;    /* NUL-terminated while err == 0; malloc'd: the caller takes it */
	size_t len, cap;
	int err;      /* -ENOMEM once an append failed: everything after is ignored */
	int comma;    /* the next value needs a ',' before it */
};

/* Every function below takes key NULL inside an array, a key inside an
 * object (the caller keeps the nesting right). */
void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
/* The text (the caller frees it) and its length, or NULL after an error. */
char *jsonw_take(struct jsonw *w, size_t *len);
void jsonw_obj_begin(struct jsonw *w, const char *key);
void jsonw_obj_end(struct jsonw *w);
void jsonw_arr_begin(struct jsonw *w, const char *key);
void jsonw_arr_end(struct jsonw *w);
void jsonw_str(struct jsonw *w, const char *key, const char *s);
void jsonw_num(struct jsonw *w, const char *key, double v);
/* A number that must read back as the same double, cheaply (the engine's
 * state file: a hub's 150,000 of them): integers and m/10^k as jsonw_num,
 * anything else with 17 significant digits in one printf, not the search
 * for the shortest (three printfs and two strtods). */
void jsonw_num17(struct jsonw *w, const char *key, double v);
void jsonw_bool(struct jsonw *w, const char *key, int b);
void jsonw_null(struct jsonw *w, const char *key);
/* A value already written as JSON text (a cJSON subtree's print). */
void jsonw_raw(struct jsonw *w, const char *key, const char *json);
/* The number as jsonw_num writes it; out needs 32 bytes.  Returns its length. */
size_t jsonw_fmt_num(double v, char *out);
size_t jsonw_fmt_num17(double v, char *out);

#endif
