/* MVTec AD / plain-folder data set listing (see dataset.h). */
#include "eval/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error.h"

/* A growable list of malloc'd strings. */
typedef struct str_list {
    char **items;
    size_t count, capacity;
} str_list;

/* Hands the array over to the caller and leaves the list empty. */
static char **list_take(str_list *l) {
    char **items = l->items;
    l->items = NULL;
    l->count = l->capacity = 0;
    return items;
}

static void list_free(str_list *l) {
    for (size_t i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = l->capacity = 0;
}

/* Takes ownership of s (freed on failure). */
static ff_status list_push(str_list *l, char *s) {
    if (!s) return ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory listing files");
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? l->capacity * 2 : 16;
        char **p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            free(s);
            return ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory listing files");
        }
        l->items = p;
        l->capacity = cap;
    }
    l->items[l->count++] = s;
    return FF_OK;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* malloc'd "a/b" (NULL on failure). */
static char *path_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/') la--;
    char *p = malloc(la + 1 + lb + 1);
    if (!p) return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

static char *path_printf(const char *fmt, ...) FF_PRINTF(1, 2);
static char *path_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int has_image_extension(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    return strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
           strcasecmp(dot, ".jpeg") == 0;
}

enum list_kind { LIST_IMAGES, LIST_DIRS };

/* Sorted names (not paths) of the images or the sub-folders of `dir`;
 * hidden entries are skipped. */
static ff_status list_dir(const char *dir, enum list_kind kind, str_list *out) {
    DIR *d = opendir(dir);
    if (!d) return ff_fail(FF_E_IO, "cannot open folder '%s': %s", dir, strerror(errno));
    str_list names = {NULL, 0, 0};
    ff_status st = FF_OK;
    struct dirent *e;
    while (st == FF_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *full = path_join(dir, e->d_name);
        if (!full) {
            st = ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory listing '%s'", dir);
            break;
        }
        int keep = kind == LIST_DIRS ? is_dir(full)
                                     : (has_image_extension(e->d_name) && is_file(full));
        free(full);
        if (keep) st = list_push(&names, strdup(e->d_name));
    }
    closedir(d);
    if (st != FF_OK) {
        list_free(&names);
        return st;
    }
    if (names.count) qsort(names.items, names.count, sizeof *names.items, compare_names);
    *out = names;
    return FF_OK;
}

/* Appends dir/<image> for every image in dir to `paths`. */
static ff_status append_images(const char *dir, str_list *paths) {
    str_list names;
    FF_TRY(list_dir(dir, LIST_IMAGES, &names));
    ff_status st = FF_OK;
    for (size_t i = 0; i < names.count && st == FF_OK; i++)
        st = list_push(paths, path_join(dir, names.items[i]));
    list_free(&names);
    return st;
}

/* Growable per-test-image arrays beside the path list. */
typedef struct test_split {
    str_list paths, masks; /* masks.items[i] may be NULL */
    uint8_t *labels;
    int32_t *types;
    size_t capacity;
} test_split;

static ff_status test_push(test_split *t, char *path, char *mask, uint8_t label, int32_t type) {
    if (t->paths.count == t->capacity) {
        size_t cap = t->capacity ? t->capacity * 2 : 64;
        uint8_t *l = realloc(t->labels, cap * sizeof *l);
        if (l) t->labels = l;
        int32_t *ty = l ? realloc(t->types, cap * sizeof *ty) : NULL;
        if (ty) t->types = ty;
        if (!l || !ty) {
            free(path);
            free(mask);
            return ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory listing test images");
        }
        t->capacity = cap;
    }
    size_t i = t->paths.count;
    /* push the mask first: list_push frees its argument on failure, and a
     * NULL mask is a valid entry, so the masks list is grown by hand */
    if (t->masks.count == t->masks.capacity) {
        size_t cap = t->masks.capacity ? t->masks.capacity * 2 : 64;
        char **p = realloc(t->masks.items, cap * sizeof *p);
        if (!p) {
            free(path);
            free(mask);
            return ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory listing test images");
        }
        t->masks.items = p;
        t->masks.capacity = cap;
    }
    t->masks.items[t->masks.count++] = mask;
    ff_status st = list_push(&t->paths, path);
    if (st != FF_OK) {
        free(t->masks.items[--t->masks.count]);
        return st;
    }
    t->labels[i] = label;
    t->types[i] = type;
    return FF_OK;
}

static void test_free(test_split *t) {
    list_free(&t->paths);
    list_free(&t->masks);
    free(t->labels);
    free(t->types);
}

/* malloc'd file name without its last extension. */
static char *stem_of(const char *name) {
    const char *dot = strrchr(name, '.');
    size_t n = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, name, n);
        s[n] = '\0';
    }
    return s;
}

/* Lists test/<type>/ images of one type with their masks. */
static ff_status read_test_type(const char *root, const char *type, int32_t type_index,
                                int has_masks, test_split *t) {
    char *dir = path_printf("%s/test/%s", root, type);
    if (!dir) return ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory");
    str_list names;
    ff_status st = list_dir(dir, LIST_IMAGES, &names);
    if (st != FF_OK) {
        free(dir);
        return st;
    }
    uint8_t label = strcmp(type, "good") == 0 ? 0 : 1;
    for (size_t i = 0; i < names.count && st == FF_OK; i++) {
        char *path = path_join(dir, names.items[i]);
        char *mask = NULL;
        if (!path) {
            st = ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory");
            break;
        }
        if (label && has_masks) {
            char *stem = stem_of(names.items[i]);
            mask = stem ? path_printf("%s/ground_truth/%s/%s_mask.png", root, type, stem) : NULL;
            free(stem);
            if (!mask) {
                free(path);
                st = ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory");
                break;
            }
            if (!is_file(mask)) {
                st = ff_fail(FF_E_BAD_FORMAT,
                             "defect image '%s' has no mask: '%s' not found (the data set has a "
                             "ground_truth folder, so every defect image needs its mask)",
                             path, mask);
                free(path);
                free(mask);
                break;
            }
        }
        st = test_push(t, path, mask, label, type_index);
    }
    list_free(&names);
    free(dir);
    return st;
}

static ff_status read_mvtec(ff_dataset *ds) {
    const char *root = ds->root;
    str_list train = {NULL, 0, 0}, types = {NULL, 0, 0};
    test_split t = {{NULL, 0, 0}, {NULL, 0, 0}, NULL, NULL, 0};
    ff_status st = FF_OK;
    char *train_dir = path_join(root, "train");
    char *good_dir = path_join(root, "train/good");
    char *test_dir = path_join(root, "test");
    char *gt_dir = path_join(root, "ground_truth");
    if (!train_dir || !good_dir || !test_dir || !gt_dir) {
        st = ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory");
        goto done;
    }
    if (is_dir(train_dir)) {
        if (!is_dir(good_dir)) {
            st = ff_fail(FF_E_BAD_FORMAT, "data set '%s': '%s' has no 'good' folder", root,
                         train_dir);
            goto done;
        }
        st = append_images(good_dir, &train);
        if (st != FF_OK) goto done;
    }
    ds->has_masks = is_dir(gt_dir);
    if (is_dir(test_dir)) {
        st = list_dir(test_dir, LIST_DIRS, &types);
        for (size_t i = 0; i < types.count && st == FF_OK; i++)
            st = read_test_type(root, types.items[i], (int32_t)i, ds->has_masks, &t);
        if (st != FF_OK) goto done;
    }
    ds->num_train = train.count;
    ds->train_paths = list_take(&train);
    ds->num_types = types.count;
    ds->type_names = list_take(&types);
    ds->num_test = t.paths.count;
    ds->test_paths = list_take(&t.paths);
    ds->test_mask_paths = list_take(&t.masks);
    ds->test_labels = t.labels;
    ds->test_types = t.types;
    for (size_t i = 0; i < ds->num_test; i++) {
        if (ds->test_labels[i]) ds->num_defect++;
        else ds->num_good++;
    }
    memset(&t, 0, sizeof t);
done:
    list_free(&train);
    list_free(&types);
    test_free(&t);
    free(train_dir);
    free(good_dir);
    free(test_dir);
    free(gt_dir);
    return st;
}

static ff_status read_plain(ff_dataset *ds) {
    str_list train = {NULL, 0, 0};
    FF_TRY(append_images(ds->root, &train));
    if (train.count == 0) {
        list_free(&train);
        return ff_fail(FF_E_BAD_FORMAT,
                       "no images in '%s': expected an MVTec AD category (train/good, test/<type>, "
                       "ground_truth/<type>) or a folder of .png/.jpg/.jpeg images",
                       ds->root);
    }
    ds->num_train = train.count;
    ds->train_paths = list_take(&train);
    return FF_OK;
}

ff_status ff_dataset_open(const char *dir, const char *category, ff_dataset **out) {
    FF_CHECK_ARG(dir != NULL && dir[0] != '\0', "ff_dataset_open: dir is NULL or empty");
    FF_CHECK_ARG(out != NULL, "ff_dataset_open: out is NULL");
    ff_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory");
    ds->root = category && category[0] ? path_join(dir, category) : strdup(dir);
    if (!ds->root) {
        free(ds);
        return ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory");
    }
    ff_status st;
    if (!is_dir(ds->root)) {
        st = ff_fail(FF_E_IO, "data set folder '%s' does not exist or is not a folder", ds->root);
    } else {
        char *train = path_join(ds->root, "train");
        char *test = path_join(ds->root, "test");
        if (!train || !test) {
            st = ff_fail(FF_E_OUT_OF_MEMORY, "data set: out of memory");
        } else if (is_dir(train) || is_dir(test)) {
            ds->layout = FF_DATASET_MVTEC;
            st = read_mvtec(ds);
        } else {
            ds->layout = FF_DATASET_PLAIN;
            st = read_plain(ds);
        }
        free(train);
        free(test);
    }
    if (st != FF_OK) {
        ff_dataset_destroy(ds);
        return st;
    }
    *out = ds;
    return FF_OK;
}

static void free_strings(char **s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

void ff_dataset_destroy(ff_dataset *ds) {
    if (!ds) return;
    free(ds->root);
    free_strings(ds->train_paths, ds->num_train);
    free_strings(ds->test_paths, ds->num_test);
    free_strings(ds->test_mask_paths, ds->num_test);
    free(ds->test_labels);
    free(ds->test_types);
    free_strings(ds->type_names, ds->num_types);
    free(ds);
}
