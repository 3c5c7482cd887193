/* Generic whole-file I/O (lib/core/file_io.c), used by every layer that
 * reads or writes files: image decoding, safetensors, model files. */
#ifndef FF_CORE_FILE_IO_H
#define FF_CORE_FILE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* Atomic file write used by every saver: writes `size` bytes to a temporary
 * file next to `path` (unnamed with O_TMPFILE on Linux; elsewhere, or on
 * file systems without it, "<path>.tmp-XXXXXX"), fsyncs, renames over
 * `path`, fsyncs the folder. On failure (FF_E_IO) the temporary file is
 * removed and `path` is untouched. New files get mode 0644; a replaced file
 * keeps its mode. A symlink at `path` is replaced, not followed (writing
 * through a link would let a link planted in a shared folder redirect the
 * write). */
ff_status ff_write_file_atomic(const char *path, const void *data, size_t size);
/* Async-signal-safe: removes the temporary file of the write under way, if
 * it has a name at this moment. For a SIGINT/SIGTERM handler (the CLI's)
 * that then lets the signal end the process. */
void ff_atomic_write_abort(void);
/* 1 (default): use O_TMPFILE where available; 0: always the named scheme
 * (tests of the fallback). Not thread-safe to change during writes. */
extern int ff_atomic_write_use_tmpfile;
/* Whether ff_write_file_atomic(path) can succeed, checked before a long
 * computation whose result goes there: the folder exists, files can be
 * created in it (read-only or immutable file systems, permissions), `path`
 * is not a directory and the file system is not full. Leaves nothing
 * behind. FF_E_IO naming the cause. A later save can still fail (the disk
 * may fill up meanwhile): it reports that and keeps the old file. */
ff_status ff_check_can_write(const char *path);
/* Reads a whole file into a malloc'd buffer (NUL-terminated beyond size);
 * only regular files (a FIFO, device or folder is FF_E_IO, without
 * blocking). */
ff_status ff_read_file(const char *path, uint8_t **data_out, size_t *size_out);
/* The same into a reusable malloc'd buffer (*buf of *capacity bytes, grown
 * when the file needs more; free with free()): one open and, for a file
 * that does not change meanwhile, one read. */
ff_status ff_read_file_into(const char *path, uint8_t **buf, size_t *capacity, size_t *size_out);

#endif
