/* runfile.h - the runtime file: what coldchaind publishes, at start and at
 * each reload, so coldchainctl finds the control socket without parsing a
 * configuration of megabytes.  It names the socket the daemon listens on
 * and every file the configuration was read from, as fstat saw them; it
 * counts only while each of those files is unchanged (device, inode, size,
 * mtime, ctime), otherwise coldchainctl parses the configuration as before. */
#ifndef CC_RUNFILE_H
#define CC_RUNFILE_H

#include <sys/types.h>

#include "config.h"

#define RUNFILE_ENV "COLDCHAIND_RUNTIME_DIR"
#define RUNFILE_MAX_BYTES (256u << 10) /* read no more: CONFIG_MAX_INCLUDES + 1 paths fit */

/* The directory runtime files live in: $COLDCHAIND_RUNTIME_DIR when set to
 * an absolute path, else the compiled-in run directory (/run/coldchaind). */
const char *runfile_dir(void);

/* The runtime file of the configuration whose main file has device dev and
 * inode ino, in runfile_dir(): DIR/conf-DEV-INO.run (malloc'd). */
char *runfile_path(uint64_t dev, uint64_t ino);

/* Writes the runtime file of cfg (its srcs: a configuration loaded from a
 * file) naming socket: a temporary file in the same directory, mode 0640,
 * owned by uid (when root) and gid (unless (gid_t)-1), then renamed over
 * the old one.  0 and *written (malloc'd: remove it with runfile_remove);
 * -ENOENT when there is no directory to publish in (without
 * $COLDCHAIND_RUNTIME_DIR, only a socket directly in the run directory is
 * published, as the packaged one is); -EAGAIN when a file's mtime is a
 * whole second no more than a second before it was read (a file system of
 * whole-second times could hide an edit made then), else
 * -errno. */
int runfile_write(const struct cc_config *cfg, const char *socket, uid_t uid, gid_t gid, char **written);

/* Removes the file runfile_write wrote (NULL: nothing). */
void runfile_remove(const char *written);

/* coldchainctl: the socket of the daemon running conf (malloc'd), when
 * runfile_dir() holds a runtime file for conf and conf and each file it
 * includes are unchanged since the daemon read them and the socket exists;
 * NULL otherwise, *why saying why (static text). */
char *runfile_lookup(const char *conf, const char **why);

#endif
