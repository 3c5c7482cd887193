/* libFuzzer harness for the MVTec AD / plain-folder data set reader
 * (lib/eval/dataset.c). Each input describes a folder tree that the harness
 * creates in a fresh temporary folder, then lists with ff_dataset_open.
 *
 * Input: lines "K path[=target]" with K one of
 *   d  folder     f  empty file     l  symlink path -> target     p  FIFO
 * Paths are made relative and ".." components neutralised, so the tree
 * always stays inside the temporary folder; the first line starting with
 * 'c' names the category (ff_dataset_open's second argument).
 *
 * Build and run (from the repository root):
 *   tests/fuzz/build.sh dataset
 *   mkdir -p build-fuzz/dataset-corpus
 *   build-fuzz/fuzz_dataset -max_total_time=60 -dict=tests/fuzz/dataset.dict \
 *       build-fuzz/dataset-corpus tests/fuzz/dataset-seeds
 *
 * Invariants (abort() on violation):
 *  - a failure is FF_E_IO, FF_E_BAD_FORMAT or FF_E_OUT_OF_MEMORY with a
 *    message, and leaves *out untouched; nothing blocks (FIFOs are listed,
 *    never opened);
 *  - on success every listed image is a regular file with an image
 *    extension, inside the root, and listed once; labels are 0 for "good"
 *    and 1 otherwise; counts add up; a defect image's mask is a regular file
 *    when the set has masks, and absent otherwise. */
// fuzz-sources: lib/core lib/eval/dataset.c
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/dataset.h"

static void check(int cond) {
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Copies a path from the input: no leading '/', every ".." component
 * becomes "__", NUL-free, at most 200 bytes. */
static void clean_path(const char *in, size_t n, char *out) {
    size_t o = 0;
    while (n > 0 && *in == '/') in++, n--;
    for (size_t i = 0; i < n && o < 200; i++) {
        char c = in[i];
        if (c == '\0') c = '_';
        out[o++] = c;
    }
    out[o] = '\0';
    for (char *p = out; (p = strstr(p, "..")) != NULL;) p[0] = p[1] = '_';
}

static int is_regular(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int image_name(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                   strcasecmp(dot, ".jpeg") == 0);
}

static void check_dataset(const ff_dataset *ds, const char *root) {
    size_t rl = strlen(root);
    check(ds->num_good + ds->num_defect == ds->num_test);
    for (size_t i = 0; i < ds->num_train; i++) {
        check(strncmp(ds->train_paths[i], root, rl) == 0);
        check(is_regular(ds->train_paths[i]) && image_name(ds->train_paths[i]));
        if (i) check(strcmp(ds->train_paths[i - 1], ds->train_paths[i]) < 0);
    }
    for (size_t i = 0; i < ds->num_test; i++) {
        check(strncmp(ds->test_paths[i], root, rl) == 0);
        check(is_regular(ds->test_paths[i]) && image_name(ds->test_paths[i]));
        check(ds->test_types[i] >= 0 && (size_t)ds->test_types[i] < ds->num_types);
        const char *type = ds->type_names[ds->test_types[i]];
        check(ds->test_labels[i] == (strcmp(type, "good") != 0));
        if (ds->test_labels[i] && ds->has_masks) check(is_regular(ds->test_mask_paths[i]));
        else check(ds->test_mask_paths[i] == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char tmpl[] = "/tmp/ff_fuzz_dataset_XXXXXX";
    check(mkdtemp(tmpl) != NULL);
    char root[64];
    snprintf(root, sizeof root, "%s/r", tmpl);
    check(mkdir(root, 0755) == 0);
    char category[256] = "";
    const char *p = (const char *)data, *end = p + size;
    for (int lines = 0; p < end && lines < 64; lines++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n >= 2) {
            char kind = p[0];
            char rel[256], target[256] = "";
            const char *eq = memchr(p + 2, '=', n - 2);
            size_t plen = eq ? (size_t)(eq - (p + 2)) : n - 2;
            clean_path(p + 2, plen, rel);
            if (eq) clean_path(eq + 1, (size_t)(p + n - eq - 1), target);
            char full[512];
            snprintf(full, sizeof full, "%s/%s", root, rel);
            if (kind == 'd') (void)mkdir(full, 0755);
            else if (kind == 'f') {
                /* O_NONBLOCK: the name may already be a FIFO */
                int fd = open(full, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
                if (fd >= 0) close(fd);
            } else if (kind == 'l') (void)symlink(target, full);
            else if (kind == 'p') (void)mkfifo(full, 0644);
            else if (kind == 'c' && !category[0]) snprintf(category, sizeof category, "%s", rel);
        }
        p += n + (nl ? 1 : 0);
    }
    ff_dataset *ds = (ff_dataset *)(uintptr_t)1; /* must stay untouched on failure */
    ff_status st = ff_dataset_open(root, category, &ds);
    if (st != FF_OK) {
        check(st == FF_E_IO || st == FF_E_BAD_FORMAT || st == FF_E_OUT_OF_MEMORY);
        check(ff_last_error_message()[0] != '\0');
        check(ds == (ff_dataset *)(uintptr_t)1);
    } else {
        check_dataset(ds, root);
        ff_dataset_destroy(ds);
    }
    check(nftw(tmpl, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
    return 0;
}
