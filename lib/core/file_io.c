/* Whole-file reading and crash-safe whole-file replacement.
 *
 * ff_write_file_atomic writes a temporary file in the target's folder (so
 * the rename cannot cross file systems), fsyncs it, renames it over the
 * target and fsyncs the folder so the rename itself is durable. Readers
 * therefore see either the old or the new content, never a mix, and a
 * failure at any step removes the temporary file and leaves the target as
 * it was. New files get mode 0644 (mkstemp's 0600 would surprise users);
 * an existing target keeps its mode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/file_io.h"

ff_status ff_read_file(const char *path, uint8_t **data_out, size_t *size_out) {
    FF_CHECK_ARG(path && data_out && size_out, "ff_read_file: NULL argument");
    FF_CHECK_ARG(path[0] != '\0', "ff_read_file: empty path");
    int fd;
    do fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return ff_fail(FF_E_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ff_fail(FF_E_IO, "cannot stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        if (S_ISDIR(st.st_mode)) return ff_fail(FF_E_IO, "'%s' is not a regular file (a directory)", path);
        return ff_fail(FF_E_IO, "'%s' is not a regular file", path);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size >= (uint64_t)SIZE_MAX) {
        close(fd);
        return ff_fail(FF_E_IO, "'%s' is too large to read into memory", path);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate %zu bytes to read '%s'", size + 1, path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return ff_fail(FF_E_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (n == 0) break; /* file shrank meanwhile: keep what was there */
        got += (size_t)n;
    }
    close(fd);
    buf[got] = 0;
    *data_out = buf;
    *size_out = got;
    return FF_OK;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        size_t chunk = n > ((size_t)1 << 30) ? (size_t)1 << 30 : n;
        ssize_t w = write(fd, p, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync of the folder holding `path`, so that the rename is durable. File
 * systems that cannot sync folders (EINVAL) are accepted. */
static int sync_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) dir = ff_strdup(".");
    else if (slash == path) dir = ff_strdup("/");
    else {
        size_t n = (size_t)(slash - path);
        dir = malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir) {
        errno = ENOMEM;
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r != 0 && (e == EINVAL || e == ENOTSUP)) return 0;
    errno = e;
    return r;
}

ff_status ff_write_file_atomic(const char *path, const void *data, size_t size) {
    FF_CHECK_ARG(path && (data || size == 0), "ff_write_file_atomic: NULL argument");
    FF_CHECK_ARG(path[0] != '\0', "ff_write_file_atomic: empty path");
    size_t plen = strlen(path);
    FF_CHECK_ARG(path[plen - 1] != '/', "ff_write_file_atomic: '%s' names a folder", path);
    static const char suffix[] = ".tmp-XXXXXX";
    size_t tlen;
    if (!ff_add_size(plen, sizeof suffix, &tlen))
        return ff_fail(FF_E_INVALID_ARGUMENT, "ff_write_file_atomic: path too long");
    char *tmp = malloc(tlen);
    if (!tmp) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a temporary file name");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, suffix, sizeof suffix);

    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        ff_status st = ff_fail(FF_E_IO, "cannot create a temporary file beside '%s': %s", path,
                               strerror(errno));
        free(tmp);
        return st;
    }
    mode_t mode = 0644;
    struct stat old;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode)) mode = old.st_mode & 07777;
    const char *step = "write";
    if (fchmod(fd, mode) != 0) step = "set the mode of";
    else if (write_all(fd, data, size) != 0) step = "write";
    else if (fsync(fd) != 0) step = "sync";
    else step = NULL;
    int e = errno;
    if (close(fd) != 0 && !step) {
        step = "close";
        e = errno;
    }
    if (!step && rename(tmp, path) != 0) {
        step = "rename the temporary file onto";
        e = errno;
    }
    if (step) {
        unlink(tmp);
        free(tmp);
        return ff_fail(FF_E_IO, "cannot %s '%s': %s (target left unchanged)", step, path, strerror(e));
    }
    free(tmp);
    if (sync_parent(path) != 0)
        return ff_fail(FF_E_IO, "'%s' was replaced but its folder could not be synced: %s", path,
                       strerror(errno));
    return FF_OK;
}
