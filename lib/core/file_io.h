/* Generic whole-file I/O (lib/core/file_io.c), used by every layer that
 * reads or writes files: image decoding, safetensors, model files. */
#ifndef FF_CORE_FILE_IO_H
#define FF_CORE_FILE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* Atomic file write used by every saver: writes `size` bytes to a temporary
 * file next to `path` ("<path>.tmp-XXXXXX"), fsyncs, renames over `path`,
 * fsyncs the folder. On failure (FF_E_IO) the temporary file is removed and
 * `path` is untouched. New files get mode 0644; a replaced file keeps its
 * mode. A symlink at `path` is replaced, not followed. */
ff_status ff_write_file_atomic(const char *path, const void *data, size_t size);
/* Reads a whole file into a malloc'd buffer (NUL-terminated beyond size). */
ff_status ff_read_file(const char *path, uint8_t **data_out, size_t *size_out);

#endif
