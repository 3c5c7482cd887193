#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ff_test_passed, ff_test_failed;

void ff_test_check_msg(const char *needle, const char *file, int line) {
    const char *msg = ff_last_error_message();
    if (strstr(msg, needle)) {
        ff_test_passed++;
    } else {
        ff_test_failed++;
        fprintf(stderr, "%s:%d: error message \"%s\" lacks \"%s\"\n", file, line, msg, needle);
    }
}

static const char *join(const char *env, const char *fallback, const char *relative) {
    static _Thread_local char buf[8][4096];
    static _Thread_local int next;
    const char *root = getenv(env);
    if (!root || !*root) root = fallback;
    char *out = buf[next++ % 8];
    snprintf(out, sizeof buf[0], "%s/%s", root, relative);
    return out;
}

const char *ff_test_shared_path(const char *relative) {
    const char *p = join("FF_SHARED_DIR", "../shared", relative);
    struct stat st;
    return stat(p, &st) == 0 ? p : NULL;
}

const char *ff_test_golden_path(const char *relative) { return join("FF_GOLDEN_DIR", "tests/golden", relative); }
const char *ff_test_data_path(const char *relative) { return join("FF_DATA_DIR", "tests/data", relative); }

const char *ff_test_tmpdir(void) {
    static char dir[256];
    if (!dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/fftest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return dir;
}

void ff_test_skip(const char *why) {
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0) {
        fprintf(stderr, "FAIL (CI=true forbids skipping): %s\n", why);
        exit(1);
    }
    fprintf(stderr, "SKIP: %s\n", why);
    exit(77);
}

bool ff_test_close_rel_max(const char *what, const float *got, const float *ref, size_t n, double tol) {
    double maxref = 0, maxerr = 0;
    size_t worst = 0;
    bool finite = true;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) finite = false;
        double r = fabs((double)ref[i]);
        if (r > maxref) maxref = r;
        double e = fabs((double)got[i] - (double)ref[i]);
        if (e > maxerr) { maxerr = e; worst = i; }
    }
    double rel = maxref > 0 ? maxerr / maxref : maxerr;
    bool ok = finite && rel <= tol;
    printf("%s: %zu values, max|ref| %.6g, max abs err %.3g (at %zu), rel %.3g (tol %.1g) %s\n", what, n,
           maxref, maxerr, worst, rel, tol, ok ? "ok" : "FAIL");
    if (ok) ff_test_passed++; else ff_test_failed++;
    return ok;
}

bool ff_test_close(const char *what, const float *got, const float *ref, size_t n, double rtol, double atol) {
    size_t bad = 0, worst = 0;
    double worst_ratio = 0;
    for (size_t i = 0; i < n; i++) {
        double lim = atol + rtol * fabs((double)ref[i]);
        double e = fabs((double)got[i] - (double)ref[i]);
        if (!(e <= lim)) bad++;
        double ratio = lim > 0 ? e / lim : (e > 0 ? INFINITY : 0);
        if (!(ratio <= worst_ratio)) { worst_ratio = ratio; worst = i; }
    }
    bool ok = bad == 0;
    printf("%s: %zu values, %zu outside rtol %.1g atol %.1g (worst at %zu: got %.8g ref %.8g) %s\n", what, n, bad,
           rtol, atol, worst, n ? got[worst] : 0.0, n ? ref[worst] : 0.0, ok ? "ok" : "FAIL");
    if (ok) ff_test_passed++; else ff_test_failed++;
    return ok;
}

int ff_test_finish(void) {
    printf("%d passed, %d failed\n", ff_test_passed, ff_test_failed);
    return ff_test_failed ? 1 : 0;
}
