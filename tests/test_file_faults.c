/* Saves under faults (issue 12 items 3, 4 and 7):
 *  - a process killed (SIGKILL, SIGTERM, SIGINT) in the middle of writing
 *    a large file leaves no temporary file and the old file intact: with
 *    O_TMPFILE for any signal; with the named fallback scheme when the
 *    CLI's handlers (cli_signals) are installed, for SIGINT and SIGTERM;
 *  - ff_check_can_write refuses a missing folder, a file used as a folder,
 *    a directory as the target, an uncreatable place (/proc), a read-only
 *    file system and a full one (tmpfs mounts: tests run as root, which
 *    bypasses permission bits, so the read-only and full cases need a
 *    mount; they are skipped with a message where mounting is refused);
 *  - a save that finds the disk full fails with FF_E_IO, keeps the old
 *    file and leaves nothing else;
 *  - a symlink as the target is replaced by the new file, its target left
 *    alone (the documented behaviour). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tools/fastflow/cli_signals.h"
#include "core/file_io.h"
#include "test_util.h"

#define BIG ((size_t)96 << 20)

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static int file_equals(const char *path, const char *want) {
    uint8_t *data = NULL;
    size_t size = 0;
    if (ff_read_file(path, &data, &size) != FF_OK) return 0;
    int same = size == strlen(want) && memcmp(data, want, size) == 0;
    free(data);
    return same;
}

/* Whether process `pid` has a descriptor open on a file in `dir` other
 * than `except` (the temporary file being written, named or not). */
static int writing_in(pid_t pid, const char *dir, const char *except) {
    char fds[64];
    snprintf(fds, sizeof fds, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(fds);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    size_t dl = strlen(dir);
    while (!found && (e = readdir(d)) != NULL) {
        char link[600], target[1024];
        snprintf(link, sizeof link, "%s/%s", fds, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = '\0';
        found = strncmp(target, dir, dl) == 0 && target[dl] == '/' && strcmp(target, except) != 0;
    }
    closedir(d);
    return found;
}

/* Waits up to 20 s for `pid` to end; a child that does not is SIGKILLed
 * and reported, so that a signal the child cannot receive fails the test
 * instead of hanging it. */
static int wait_or_kill(pid_t pid, int *status) {
    for (int i = 0; i < 20000; i++) {
        if (waitpid(pid, status, WNOHANG) == pid) return 1;
        usleep(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    return 0;
}

/* Kills a child in the middle of a BIG write over `target` (whose old
 * content is "old"); returns 1 when the kill landed during the write. */
static int kill_during_write(const char *dir, const char *target, int sig, int tmpfile, int handlers) {
    pid_t pid = fork();
    if (pid == 0) {
        /* The dispositions a terminal gives: a test run under nohup (SIGHUP
         * ignored) or as a background job of a script (SIGINT ignored)
         * passes the ignoring on, and cli_signals_install rightly keeps an
         * ignored signal ignored, so the child would never end. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        ff_atomic_write_use_tmpfile = tmpfile;
        if (handlers) cli_signals_install();
        uint8_t *big = malloc(BIG);
        if (!big) _exit(3);
        memset(big, 'n', BIG);
        for (;;) ff_write_file_atomic(target, big, BIG); /* until killed */
    }
    int landed = 0;
    for (int i = 0; i < 200000 && !landed; i++) {
        landed = writing_in(pid, dir, target);
        if (!landed) usleep(50);
    }
    kill(pid, landed ? sig : SIGKILL);
    int status = 0;
    if (!wait_or_kill(pid, &status)) fprintf(stderr, "signal %d did not end the child within 20 s\n", sig);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == (landed ? sig : SIGKILL));
    return landed;
}

static void test_kills(void) {
    char dir[600], target[700];
    snprintf(dir, sizeof dir, "%s/kills", ff_test_tmpdir());
    CHECK(mkdir(dir, 0755) == 0);
    snprintf(target, sizeof target, "%s/model.safetensors", dir);
    static const struct {
        int sig, tmpfile, handlers;
    } cases[] = {{SIGKILL, 1, 0}, {SIGTERM, 1, 0}, {SIGINT, 1, 0}, {SIGTERM, 1, 1},
                 {SIGTERM, 0, 1}, {SIGINT, 0, 1},  {SIGHUP, 0, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int landed = 0;
        for (int round = 0; round < 3; round++) {
            CHECK_OK(ff_write_file_atomic(target, "old", 3));
            /* the old content may have been replaced by a complete new one
             * if the kill came after the rename; never anything else */
            landed += kill_during_write(dir, target, cases[c].sig, cases[c].tmpfile, cases[c].handlers);
            if (count_entries(dir) != 1)
                fprintf(stderr, "signal %d, O_TMPFILE %d, handlers %d: %d entries left\n", cases[c].sig,
                        cases[c].tmpfile, cases[c].handlers, count_entries(dir));
            CHECK(count_entries(dir) == 1);
            struct stat st;
            CHECK(stat(target, &st) == 0 && (st.st_size == 3 || (size_t)st.st_size == BIG));
            if (st.st_size == 3) CHECK(file_equals(target, "old"));
        }
        printf("signal %d, O_TMPFILE %d, CLI handlers %d: killed mid-write in %d of 3 rounds\n", cases[c].sig,
               cases[c].tmpfile, cases[c].handlers, landed);
        CHECK(landed > 0);
    }
}

static void test_named_fallback_works(void) {
    char path[700];
    snprintf(path, sizeof path, "%s/named.bin", ff_test_tmpdir());
    ff_atomic_write_use_tmpfile = 0;
    CHECK_OK(ff_write_file_atomic(path, "abc", 3));
    CHECK_OK(ff_write_file_atomic(path, "defg", 4));
    ff_atomic_write_use_tmpfile = 1;
    CHECK(file_equals(path, "defg"));
}

static void test_symlink_target(void) {
    char dir[600], link[700], real[700];
    snprintf(dir, sizeof dir, "%s/links", ff_test_tmpdir());
    CHECK(mkdir(dir, 0755) == 0);
    snprintf(real, sizeof real, "%s/real.bin", dir);
    snprintf(link, sizeof link, "%s/out.bin", dir);
    CHECK_OK(ff_write_file_atomic(real, "real", 4));
    CHECK(symlink("real.bin", link) == 0);
    CHECK_OK(ff_write_file_atomic(link, "new", 3));
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode)); /* the link was replaced */
    CHECK(file_equals(link, "new"));
    CHECK(file_equals(real, "real")); /* and not written through */
    CHECK(count_entries(dir) == 2);
}

static void test_check_can_write(void) {
    const char *tmp = ff_test_tmpdir();
    char p[800], file[700];
    snprintf(p, sizeof p, "%s/no-such-folder/model.safetensors", tmp);
    CHECK_STATUS(ff_check_can_write(p), FF_E_IO);
    CHECK_MSG("does not exist");
    snprintf(file, sizeof file, "%s/plain-file", tmp);
    CHECK_OK(ff_write_file_atomic(file, "x", 1));
    snprintf(p, sizeof p, "%s/model.safetensors", file);
    CHECK_STATUS(ff_check_can_write(p), FF_E_IO);
    CHECK_MSG("is not a folder");
    CHECK_STATUS(ff_check_can_write(tmp), FF_E_IO);
    CHECK_MSG("is a directory");
    snprintf(p, sizeof p, "%s/", tmp);
    CHECK_STATUS(ff_check_can_write(p), FF_E_IO);
    CHECK_STATUS(ff_check_can_write("/proc/model.safetensors"), FF_E_IO);
    CHECK_MSG("cannot create files in '/proc'");
    snprintf(p, sizeof p, "%s/fine.safetensors", tmp);
    int before = count_entries(tmp);
    CHECK_OK(ff_check_can_write(p));
    ff_atomic_write_use_tmpfile = 0; /* the check's named probe is removed too */
    CHECK_OK(ff_check_can_write(p));
    ff_atomic_write_use_tmpfile = 1;
    CHECK(count_entries(tmp) == before);
}

/* Read-only and full file systems: small tmpfs mounts. */
static void test_mounts(void) {
    char mnt[600], p[800];
    snprintf(mnt, sizeof mnt, "%s/mnt", ff_test_tmpdir());
    CHECK(mkdir(mnt, 0755) == 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
        printf("SKIP read-only and full file system cases: cannot mount a tmpfs here (%s)\n", strerror(errno));
        return;
    }
    snprintf(p, sizeof p, "%s/model.safetensors", mnt);
    CHECK_OK(ff_write_file_atomic(p, "old", 3));
    /* full: a 1 MiB save fails, keeps the old file, leaves nothing */
    uint8_t *big = calloc(1, 1 << 20);
    for (int tmpfile = 1; tmpfile >= 0; tmpfile--) {
        ff_atomic_write_use_tmpfile = tmpfile;
        CHECK_STATUS(ff_write_file_atomic(p, big, 1 << 20), FF_E_IO);
        CHECK_MSG("No space left on device");
        CHECK_MSG("target left unchanged");
        CHECK(file_equals(p, "old"));
        CHECK(count_entries(mnt) == 1);
    }
    ff_atomic_write_use_tmpfile = 1;
    /* fill it up: the pre-check sees the full file system */
    char filler[700];
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    FILE *f = fopen(filler, "wb");
    while (f && fwrite(big, 1, 4096, f) == 4096 && fflush(f) == 0) {
    }
    if (f) fclose(f);
    CHECK_STATUS(ff_check_can_write(p), FF_E_IO);
    CHECK_MSG("is full");
    unlink(filler);
    CHECK_OK(ff_check_can_write(p));
    free(big);
    /* read-only */
    CHECK(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=256k") == 0);
    CHECK_STATUS(ff_check_can_write(p), FF_E_IO);
    CHECK_MSG("Read-only file system");
    CHECK_STATUS(ff_write_file_atomic(p, "new", 3), FF_E_IO);
    CHECK(file_equals(p, "old"));
    CHECK(umount2(mnt, MNT_DETACH) == 0);
}

int main(void) {
    test_named_fallback_works();
    test_symlink_target();
    test_check_can_write();
    test_mounts();
    test_kills();
    return ff_test_finish();
}
