/* state.h - atomic snapshots in the state directory: the engine's alarm and
 * lot state survives a restart (and kill -9: at most the last snapshot
 * interval is lost).  A snapshot is written to NAME.tmp, fsynced, renamed
 * over NAME and the directory fsynced, so a reader sees the old file or the
 * new one, never a torn one. */
#ifndef CC_STATE_H
#define CC_STATE_H

#include <stddef.h>

/* A snapshot's size limit, both ways: a larger one is neither written
 * (-EFBIG, so what was written can always be read back) nor read (-EFBIG,
 * never allocated).  engine.state takes a few hundred bytes per alarm and
 * per lot: this is room for over 100,000 of them. */
#define STATE_MAX_BYTES ((size_t)64 << 20)

/* 0 or -errno. */
int state_write(const char *dir, const char *name, const char *data, size_t len);
/* The file's contents, NUL-terminated, in *out (free it); *len its length.
 * 0, -ENOENT when there is none, -EFBIG past STATE_MAX_BYTES, -EINVAL when
 * it is not a regular file (never opened for blocking: a FIFO cannot hang
 * the start), or -errno. */
int state_read(const char *dir, const char *name, char **out, size_t *len);
/* A binary snapshot: the data and its CRC-32 (4 bytes, little-endian) after
 * it.  state_read_sealed gives the data without the CRC (NUL-terminated,
 * *len its length) or, besides state_read's errors, -EBADMSG when the CRC
 * does not match (a torn disk, an edit): never half a file. */
int state_write_sealed(const char *dir, const char *name, const void *data, size_t len);
int state_read_sealed(const char *dir, const char *name, char **out, size_t *len);

#endif
