/* state.h - atomic snapshots in the state directory: the engine's alarm and
 * lot state survives a restart (and kill -9: at most the last snapshot
 * interval is lost).  A snapshot is written to NAME.tmp, fsynced, renamed
 * over NAME and the directory fsynced, so a reader sees the old file or the
 * new one, never a torn one. */
#ifndef CC_STATE_H
#define CC_STATE_H

#include <stddef.h>

/* 0 or -errno. */
int state_write(const char *dir, const char *name, const char *data, size_t len);
/* The file's contents, NUL-terminated, in *out (free it); *len its length.
 * 0, -ENOENT when there is none, or -errno. */
int state_read(const char *dir, const char *name, char **out, size_t *len);

#endif
