#include "cli_paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cli_mkdir_p(const char *cmd, const char *dir) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) {
        fprintf(stderr, "fastflow %s: bad folder name '%s'\n", cmd, dir);
        return 1;
    }
    memcpy(buf, dir, n + 1);
    /* create each prefix ending before a '/', then the whole path */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "fastflow %s: cannot create %s: %s\n", cmd, buf, strerror(errno));
            return 1;
        }
        buf[i] = saved;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "fastflow %s: %s is not a folder\n", cmd, dir);
        return 1;
    }
    return 0;
}

void cli_stem(const char *path, char *out, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, n, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

bool cli_join(char *out, size_t n, const char *a, const char *b) {
    int w = b[0] ? snprintf(out, n, "%s/%s", a, b) : snprintf(out, n, "%s", a);
    return w >= 0 && (size_t)w < n;
}

bool cli_is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}
