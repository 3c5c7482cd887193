/* Whole-file reading and crash-safe whole-file replacement.
 *
 * ff_write_file_atomic writes the new content to a temporary file in the
 * target's folder (so the rename cannot cross file systems), fsyncs it,
 * renames it over the target and fsyncs the folder so the rename itself is
 * durable. Readers therefore see either the old or the new content, never a
 * mix, and a failure at any step removes the temporary file and leaves the
 * target as it was. On Linux the temporary file is unnamed (O_TMPFILE)
 * until it is complete, so a killed process leaves nothing behind; see
 * docs/reliability.md for what a power loss can leave. New files get mode
 * 0644; an existing target keeps its mode. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/file_io.h"

ff_status ff_read_file_into(const char *path, uint8_t **buf, size_t *capacity, size_t *size_out) {
    FF_CHECK_ARG(path && buf && capacity && size_out, "ff_read_file_into: NULL argument");
    FF_CHECK_ARG(path[0] != '\0', "ff_read_file_into: empty path");
    /* O_NONBLOCK: opening a FIFO (or a tty, a device) would otherwise wait,
     * possibly forever, for a writer before fstat can refuse it. It has no
     * effect on reading regular files. */
    int fd;
    do fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
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
        const char *kind = S_ISDIR(st.st_mode)    ? " (a directory)"
                           : S_ISFIFO(st.st_mode) ? " (a FIFO)"
                           : S_ISSOCK(st.st_mode) ? " (a socket)"
                           : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? " (a device)"
                                                                         : "";
        return ff_fail(FF_E_IO, "'%s' is not a regular file%s: only regular files are read", path, kind);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size >= (uint64_t)SIZE_MAX) {
        close(fd);
        return ff_fail(FF_E_IO, "'%s' is too large to read into memory", path);
    }
    size_t size = (size_t)st.st_size;
    if (size + 1 > *capacity) {
        /* free + malloc rather than realloc: the old bytes are not needed */
        uint8_t *grown = malloc(size + 1);
        if (!grown) {
            close(fd);
            return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate %zu bytes to read '%s'", size + 1, path);
        }
        free(*buf);
        *buf = grown;
        *capacity = size + 1;
    }
    uint8_t *data = *buf;
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return ff_fail(FF_E_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (n == 0) break; /* file shrank meanwhile: keep what was there */
        got += (size_t)n;
    }
    close(fd);
    data[got] = 0;
    *size_out = got;
    return FF_OK;
}

ff_status ff_read_file(const char *path, uint8_t **data_out, size_t *size_out) {
    FF_CHECK_ARG(data_out && size_out, "ff_read_file: NULL argument");
    uint8_t *buf = NULL;
    size_t cap = 0, size = 0;
    ff_status st = ff_read_file_into(path, &buf, &cap, &size);
    if (st != FF_OK) {
        free(buf);
        return st;
    }
    *data_out = buf;
    *size_out = size;
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

static char *parent_of(const char *path);

/* fsync of the folder holding `path`, so that the rename is durable. File
 * systems that cannot sync folders (EINVAL) are accepted. */
static int sync_parent(const char *path) {
    char *dir = parent_of(path);
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

/* ------------------------------------------------------------------------
 * The temporary name that exists at the moment (if any), for
 * ff_atomic_write_abort() to remove from a signal handler. A static buffer
 * and an atomic state keep that async-signal-safe: the handler only loads
 * the state and calls unlink. One writer at a time is tracked (the CLI
 * writes one file at a time); a writer in another thread meanwhile is not
 * tracked. */
enum { PENDING_FREE, PENDING_CLAIMED, PENDING_NAMED };
static atomic_int g_pending_state;
static char g_pending_name[4096];

static int pending_claim(void) {
    int expected = PENDING_FREE;
    return atomic_compare_exchange_strong(&g_pending_state, &expected, PENDING_CLAIMED);
}

/* `name` now exists (recorded only when this writer holds the claim). */
static void pending_named(int claimed, const char *name) {
    size_t n = strlen(name);
    if (!claimed || n >= sizeof g_pending_name) return;
    memcpy(g_pending_name, name, n + 1);
    atomic_store(&g_pending_state, PENDING_NAMED);
}

/* The name no longer exists (renamed or unlinked). */
static void pending_gone(int claimed) {
    if (claimed) atomic_store(&g_pending_state, PENDING_CLAIMED);
}

static void pending_release(int claimed) {
    if (claimed) atomic_store(&g_pending_state, PENDING_FREE);
}

void ff_atomic_write_abort(void) {
    if (atomic_load(&g_pending_state) == PENDING_NAMED) unlink(g_pending_name);
}

int ff_atomic_write_use_tmpfile = 1;

/* "<path>.tmp-XXXXXX" (malloc'd) or NULL. */
static char *temp_name(const char *path) {
    static const char suffix[] = ".tmp-XXXXXX";
    size_t plen = strlen(path), tlen;
    if (!ff_add_size(plen, sizeof suffix, &tlen)) return NULL;
    char *tmp = malloc(tlen);
    if (tmp) {
        memcpy(tmp, path, plen);
        memcpy(tmp + plen, suffix, sizeof suffix);
    }
    return tmp;
}

/* Fills the X's of a temp_name with fresh letters (a clash is retried
 * with another name). */
static void randomise(char *tmp) {
    static atomic_uint counter;
    uint64_t z = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
                 ((uint64_t)atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15u);
    char *x = tmp + strlen(tmp) - 6;
    for (int i = 0; i < 6; i++) {
        z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9u + 0x94D049BB133111EBu;
        x[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[(z >> 40) % 36];
    }
}

/* Mode of the new file: the replaced file's, else 0644 (mkstemp's and
 * O_TMPFILE's 0600 would surprise users). */
static mode_t target_mode(const char *path) {
    struct stat old;
    if (stat(path, &old) == 0 && S_ISREG(old.st_mode)) return old.st_mode & 07777;
    return 0644;
}

/* Writes and syncs; returns the failed step (NULL: none), errno kept. */
static const char *fill(int fd, mode_t mode, const void *data, size_t size) {
    if (fchmod(fd, mode) != 0) return "set the mode of";
    if (write_all(fd, data, size) != 0) return "write";
    if (fsync(fd) != 0) return "sync";
    return NULL;
}

/* The folder of `path` ("." for a bare name), malloc'd, or NULL. */
static char *parent_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return ff_strdup(".");
    if (slash == path) return ff_strdup("/");
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

/* Renames the complete temporary file `tmp` over `path`, or removes it. */
static ff_status put_in_place(const char *tmp, const char *path, int claimed) {
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        pending_gone(claimed);
        return ff_fail(FF_E_IO, "cannot rename the temporary file onto '%s': %s (target left unchanged)", path,
                       strerror(e));
    }
    pending_gone(claimed);
    if (sync_parent(path) != 0)
        return ff_fail(FF_E_IO, "'%s' was replaced but its folder could not be synced: %s", path, strerror(errno));
    return FF_OK;
}

#ifdef O_TMPFILE
/* Linux: the data goes to an unnamed file (O_TMPFILE) in the target's
 * folder, which the kernel removes by itself if the process dies while
 * writing. Only once complete and synced does it get a name: linked to a
 * fresh temporary name (linkat cannot replace a file), then renamed over
 * the target, so a name other than the target's exists only between two
 * system calls. Returns 0 when O_TMPFILE or linking it is unavailable
 * here (nothing was left: use the named scheme), else 1 with the status in
 * *st. */
static int write_unnamed(const char *path, const void *data, size_t size, int claimed, ff_status *st) {
    char *dir = parent_of(path);
    if (!dir) {
        *st = ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a folder name");
        return 1;
    }
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    free(dir);
    /* EOPNOTSUPP: the file system lacks it; EISDIR/EINVAL: an old kernel.
     * Other errors (no folder, no permission) the named scheme reports. */
    if (fd < 0) return 0;
    const char *step = fill(fd, target_mode(path), data, size);
    if (step) {
        int e = errno;
        close(fd);
        *st = ff_fail(FF_E_IO, "cannot %s '%s': %s (target left unchanged)", step, path, strerror(e));
        return 1;
    }
    char *tmp = temp_name(path);
    if (!tmp) {
        close(fd);
        *st = ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a temporary file name");
        return 1;
    }
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int linked = -1, e = EEXIST;
    for (int attempt = 0; attempt < 16 && linked != 0; attempt++) {
        randomise(tmp);
        pending_named(claimed, tmp); /* before the name exists: a signal may come at any point */
        /* /proc works without privileges; AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH */
        linked = linkat(AT_FDCWD, self, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW);
        if (linked != 0 && errno == ENOENT) linked = linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH);
        e = errno;
        if (linked != 0) pending_gone(claimed);
        if (linked != 0 && e != EEXIST) break;
    }
    close(fd); /* unlinked content goes away with its last descriptor */
    if (linked != 0) {
        free(tmp);
        /* no /proc and no CAP_DAC_READ_SEARCH (or another refusal): the
         * named scheme reports what it finds */
        (void)e;
        return 0;
    }
    *st = put_in_place(tmp, path, claimed);
    free(tmp);
    return 1;
}
#endif

/* Elsewhere: a named temporary file beside the target, written,
 * synced and renamed over it. A process killed while writing leaves it
 * behind (the CLI removes it on SIGINT/SIGTERM/SIGHUP through
 * ff_atomic_write_abort; SIGKILL cannot be caught). */
static ff_status write_named(const char *path, const void *data, size_t size, int claimed) {
    char *tmp = temp_name(path);
    if (!tmp) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a temporary file name");
    /* not mkstemp: the name is recorded before the file exists, so that a
     * signal at any point finds it */
    int fd = -1, e = EEXIST;
    for (int attempt = 0; attempt < 16 && fd < 0 && e == EEXIST; attempt++) {
        randomise(tmp);
        pending_named(claimed, tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        e = errno;
        if (fd < 0) pending_gone(claimed);
    }
    if (fd < 0) {
        ff_status st = ff_fail(FF_E_IO, "cannot create a temporary file beside '%s': %s", path, strerror(e));
        free(tmp);
        return st;
    }
    const char *step = fill(fd, target_mode(path), data, size);
    e = errno;
    if (close(fd) != 0 && !step) {
        step = "close";
        e = errno;
    }
    if (step) {
        unlink(tmp);
        pending_gone(claimed);
        free(tmp);
        return ff_fail(FF_E_IO, "cannot %s '%s': %s (target left unchanged)", step, path, strerror(e));
    }
    ff_status st = put_in_place(tmp, path, claimed);
    free(tmp);
    return st;
}

ff_status ff_write_file_atomic(const char *path, const void *data, size_t size) {
    FF_CHECK_ARG(path && (data || size == 0), "ff_write_file_atomic: NULL argument");
    FF_CHECK_ARG(path[0] != '\0', "ff_write_file_atomic: empty path");
    FF_CHECK_ARG(path[strlen(path) - 1] != '/', "ff_write_file_atomic: '%s' names a folder", path);
    const int claimed = pending_claim();
    ff_status st;
    int done = 0;
#ifdef O_TMPFILE
    if (ff_atomic_write_use_tmpfile) done = write_unnamed(path, data, size, claimed, &st);
#endif
    if (!done) st = write_named(path, data, size, claimed);
    pending_release(claimed);
    return st;
}

ff_status ff_check_can_write(const char *path) {
    FF_CHECK_ARG(path != NULL && path[0] != '\0', "output path is NULL or empty");
    size_t n = strlen(path);
    if (path[n - 1] == '/') return ff_fail(FF_E_IO, "'%s' names a folder, not a file", path);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return ff_fail(FF_E_IO, "'%s' is a directory, not a file", path);
    char *dir = parent_of(path);
    if (!dir) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a folder name");
    ff_status status = FF_OK;
    if (stat(dir, &st) != 0) {
        status = ff_fail(FF_E_IO, "cannot write '%s': its folder '%s' %s", path, dir,
                         errno == ENOENT ? "does not exist" : strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        status = ff_fail(FF_E_IO, "cannot write '%s': '%s' is not a folder", path, dir);
    } else {
        /* create (and drop) a file where the save will: an unnamed one
         * leaves no trace; else a named probe, removed at once */
        int fd = -1;
#ifdef O_TMPFILE
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
            status = ff_fail(FF_E_IO, "cannot create files in '%s' (to write '%s'): %s", dir, path, strerror(errno));
        }
#endif
        if (fd < 0 && status == FF_OK) {
            char *probe = temp_name(path);
            if (!probe) status = ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a temporary file name");
            else if ((fd = mkostemp(probe, O_CLOEXEC)) < 0)
                status = ff_fail(FF_E_IO, "cannot create files in '%s' (to write '%s'): %s", dir, path,
                                 strerror(errno));
            else unlink(probe);
            free(probe);
        }
        if (fd >= 0) close(fd);
        struct statvfs vfs;
        if (status == FF_OK && statvfs(dir, &vfs) == 0 && vfs.f_bfree == 0)
            status = ff_fail(FF_E_IO, "cannot write '%s': the file system of '%s' is full", path, dir);
    }
    free(dir);
    return status;
}
