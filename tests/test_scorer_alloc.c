/* The scoring path's resource use, counted by interposing the C library:
 *  - after one call at an image size, ff_scorer_score_file / _memory /
 *    _image call no allocator (malloc, calloc, realloc, posix_memalign,
 *    aligned_alloc, memalign, free) outside oneDNN, for PNG (RGB, grey) and
 *    JPEG (baseline, progressive, grey), model-size and image-size maps;
 * (FF_ALLOC_TRACE=1 prints the stack of each allocation outside oneDNN,
 * FF_ALLOC_TRACE_DNNL=1 of the first few inside it.)
 *  - ff_scorer_score_file opens the file once and reads it once;
 *  - a persistent JPEG decoder (its image pool in the decoder's arena)
 *    decodes progressive and baseline JPEGs as plain libjpeg does.
 * oneDNN's own allocations are counted apart (a stack frame inside
 * libdnnl): dnnl_primitive_execute builds a std::unordered_map of the
 * arguments on every call, which no part of its C API avoids; the count
 * is printed.
 *
 * The allocator wrappers forward with dlsym(RTLD_NEXT). Under
 * AddressSanitizer (which owns malloc) the test is skipped. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <jpeglib.h>

#include "flow_testlib.h"
#include "score/scorer_internal.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define FF_SKIP_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FF_SKIP_INTERPOSE 1
#endif
#endif

#ifndef FF_SKIP_INTERPOSE

/* POSIX's way of storing dlsym's result in a function pointer. */
#define LOAD(fp, name) (*(void **)(&(fp)) = dlsym(RTLD_NEXT, (name)))

/* ---- allocator counting -------------------------------------------------- */

static atomic_int g_counting;
static atomic_long g_alloc_other, g_alloc_dnnl;
static _Thread_local int t_inside; /* re-entry guard (backtrace, dladdr) */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

/* dlsym may calloc before real_calloc is known: serve it from here. */
static unsigned char boot_heap[8192];
static size_t boot_used;
static int from_boot(const void *p) {
    return (const unsigned char *)p >= boot_heap && (const unsigned char *)p < boot_heap + sizeof boot_heap;
}

static void resolve(void) {
    static int busy;
    if (real_malloc || busy) return;
    busy = 1;
    LOAD(real_calloc, "calloc");
    LOAD(real_malloc, "malloc");
    LOAD(real_realloc, "realloc");
    LOAD(real_free, "free");
    LOAD(real_posix_memalign, "posix_memalign");
    LOAD(real_aligned_alloc, "aligned_alloc");
    LOAD(real_memalign, "memalign");
    busy = 0;
}

/* Attributes a counted call to oneDNN when any frame lies in libdnnl. */
static void count(void) {
    if (!atomic_load(&g_counting) || t_inside) return;
    t_inside = 1;
    void *frames[48];
    int n = backtrace(frames, 48), dnnl = 0;
    for (int i = 0; i < n && !dnnl; i++) {
        Dl_info info;
        if (dladdr(frames[i], &info) && info.dli_fname && strstr(info.dli_fname, "libdnnl")) dnnl = 1;
    }
    if (dnnl) {
        if (atomic_fetch_add(&g_alloc_dnnl, 1) < 4 && getenv("FF_ALLOC_TRACE_DNNL")) backtrace_symbols_fd(frames, n, 2);
    } else {
        atomic_fetch_add(&g_alloc_other, 1);
        if (getenv("FF_ALLOC_TRACE")) backtrace_symbols_fd(frames, n, 2);
    }
    t_inside = 0;
}

void *malloc(size_t n) {
    resolve();
    if (!real_malloc) return calloc(1, n);
    count();
    return real_malloc(n);
}
void *calloc(size_t a, size_t b) {
    resolve();
    if (!real_calloc) { /* during dlsym */
        size_t n = (a * b + 15) & ~(size_t)15;
        if (boot_used + n > sizeof boot_heap) return NULL;
        void *p = boot_heap + boot_used;
        boot_used += n;
        return p;
    }
    count();
    return real_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    resolve();
    count();
    return real_realloc(p, n);
}
void free(void *p) {
    if (p == NULL || from_boot(p)) return;
    resolve();
    count();
    real_free(p);
}
int posix_memalign(void **out, size_t align, size_t n) {
    resolve();
    count();
    return real_posix_memalign(out, align, n);
}
void *aligned_alloc(size_t align, size_t n) {
    resolve();
    count();
    return real_aligned_alloc(align, n);
}
void *memalign(size_t align, size_t n) {
    resolve();
    count();
    return real_memalign(align, n);
}

/* ---- file access counting (with _FILE_OFFSET_BITS=64 the headers name
 * open, openat and fopen open64, openat64 and fopen64: these definitions
 * then carry those names, as the library's calls do) */
/* ----  ------------------------------------------------ */

static const char *g_watch;     /* path whose opens are counted */
static atomic_int g_opens, g_reads, g_fopens, g_watch_fd = -1;

static int watch_open(const char *path, int fd) {
    if (g_watch && path && strcmp(path, g_watch) == 0) {
        atomic_fetch_add(&g_opens, 1);
        if (fd >= 0) atomic_store(&g_watch_fd, fd);
    }
    return fd;
}

#define OPEN_WRAPPER(name, ...)                                                                    \
    {                                                                                              \
        static int (*real)(__VA_ARGS__);                                                           \
        if (!real) LOAD(real, #name);                         \
        mode_t mode = 0;                                                                           \
        if (flags & O_CREAT) {                                                                     \
            va_list ap;                                                                            \
            va_start(ap, flags);                                                                   \
            mode = (mode_t)va_arg(ap, int);                                                        \
            va_end(ap);                                                                            \
        }
int open(const char *path, int flags, ...) OPEN_WRAPPER(open, const char *, int, ...)
    return watch_open(path, real(path, flags, mode));
}
int openat(int dir, const char *path, int flags, ...) OPEN_WRAPPER(openat, int, const char *, int, ...)
    return watch_open(path, real(dir, path, flags, mode));
}
FILE *fopen(const char *path, const char *mode) {
    static FILE *(*real)(const char *, const char *);
    if (!real) LOAD(real, "fopen");
    if (g_watch && path && strcmp(path, g_watch) == 0) atomic_fetch_add(&g_fopens, 1);
    return real(path, mode);
}
ssize_t read(int fd, void *buf, size_t n) {
    static ssize_t (*real)(int, void *, size_t);
    if (!real) LOAD(real, "read");
    if (fd >= 0 && fd == atomic_load(&g_watch_fd)) atomic_fetch_add(&g_reads, 1);
    return real(fd, buf, n);
}
int close(int fd) {
    static int (*real)(int);
    if (!real) LOAD(real, "close");
    if (fd >= 0 && fd == atomic_load(&g_watch_fd)) atomic_store(&g_watch_fd, -1);
    return real(fd);
}

/* ---- JPEG fixtures (libjpeg's encoder) ---------------------------------- */

static unsigned char *encode_jpeg(const uint8_t *rgb, int w, int h, int grey, int progressive, unsigned long *size) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    *size = 0;
    jpeg_mem_dest(&c, &out, size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = grey ? 1 : 3;
    c.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * 3);
    while (c.next_scanline < c.image_height) {
        const uint8_t *s = rgb + (size_t)c.next_scanline * (size_t)w * 3;
        if (grey)
            for (int x = 0; x < w; x++) row[x] = s[3 * x + 1];
        else
            memcpy(row, s, (size_t)w * 3);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    return out;
}

/* Plain libjpeg (its own memory manager) to RGB8. */
static uint8_t *decode_plain(const unsigned char *data, unsigned long size, int *w, int *h) {
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr err;
    d.err = jpeg_std_error(&err);
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, size);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_RGB;
    jpeg_start_decompress(&d);
    *w = (int)d.output_width;
    *h = (int)d.output_height;
    uint8_t *px = malloc((size_t)*w * (size_t)*h * 3);
    while (d.output_scanline < d.output_height) {
        JSAMPROW r = px + (size_t)d.output_scanline * (size_t)*w * 3;
        jpeg_read_scanlines(&d, &r, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    return px;
}

/* ---- tests ----------------------------------------------------------------- */

#define SIZE 64
#define MAXMAP (120 * 100)

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)len);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

static void begin_count(void) {
    atomic_store(&g_alloc_other, 0);
    atomic_store(&g_alloc_dnnl, 0);
    atomic_store(&g_counting, 1);
}
static void end_count(const char *what) {
    atomic_store(&g_counting, 0);
    long other = atomic_load(&g_alloc_other), dnnl = atomic_load(&g_alloc_dnnl);
    printf("%-44s allocator calls: %ld outside oneDNN, %ld inside oneDNN\n", what, other, dnnl);
    if (other != 0) fprintf(stderr, "%s: %ld allocator calls outside oneDNN\n", what, other);
    CHECK(other == 0);
}

/* First call (allowed to allocate), then the counted steady-state calls. */
static void steady_file(ff_scorer *s, const char *path, const char *label) {
    float map[MAXMAP], sc = 0, sc2 = 0;
    CHECK_OK(ff_scorer_score_file(s, path, map, MAXMAP, &sc));
    begin_count();
    ff_status st = ff_scorer_score_file(s, path, map, MAXMAP, &sc2);
    end_count(label);
    CHECK_OK(st);
    CHECK(sc == sc2);
    size_t n = 0;
    void *bytes = slurp(path, &n);
    float map2[MAXMAP], sc3 = 0;
    CHECK_OK(ff_scorer_score_memory(s, bytes, n, map2, MAXMAP, &sc3));
    begin_count();
    st = ff_scorer_score_memory(s, bytes, n, map2, MAXMAP, &sc3);
    end_count("  ... the same bytes through score_memory");
    CHECK_OK(st);
    int32_t w = 0, h = 0, mh = 0, mw = 0;
    CHECK_OK(ff_image_probe_memory(bytes, n, NULL, &w, &h));
    CHECK_OK(ff_scorer_map_shape_for(s, w, h, &mw, &mh));
    CHECK(sc3 == sc2 && memcmp(map, map2, (size_t)mh * (size_t)mw * sizeof(float)) == 0);
    free(bytes);

    /* one open, one read, no stdio */
    atomic_store(&g_opens, 0);
    atomic_store(&g_reads, 0);
    atomic_store(&g_fopens, 0);
    g_watch = path;
    CHECK_OK(ff_scorer_score_file(s, path, map, MAXMAP, &sc));
    g_watch = NULL;
    printf("%-44s opens %d, reads %d, fopens %d\n", "  ... file access per score_file", atomic_load(&g_opens),
           atomic_load(&g_reads), atomic_load(&g_fopens));
    CHECK(atomic_load(&g_opens) == 1 && atomic_load(&g_reads) == 1 && atomic_load(&g_fopens) == 0);
}

static void test_jpeg_matches_libjpeg(const uint8_t *rgb, int w, int h) {
    for (int prog = 0; prog < 2; prog++) {
        unsigned long n = 0;
        unsigned char *jpg = encode_jpeg(rgb, w, h, 0, prog, &n);
        int pw = 0, ph = 0;
        uint8_t *ref = decode_plain(jpg, n, &pw, &ph);
        uint8_t *got = malloc((size_t)w * (size_t)h * 3);
        CHECK_OK(ff_image_decode_memory(jpg, n, FF_PIXEL_RGB8, got, (size_t)w * (size_t)h * 3, 0));
        CHECK(pw == w && ph == h && memcmp(ref, got, (size_t)w * (size_t)h * 3) == 0);
        free(ref);
        free(got);
        free(jpg);
    }
}

static void test_plan_reuse(ff_scorer *s) {
    /* 10 = a chunk of 8 and one of 2: after the first call both plans are
     * kept, and further calls build none */
    const int32_t nb = 10;
    size_t per = 3 * (size_t)SIZE * SIZE;
    float *in = malloc(sizeof(float) * per * (size_t)nb);
    for (int32_t i = 0; i < nb; i++) {
        uint8_t *img = ft_image(500 + (uint64_t)i, 80, 60, i % 2);
        CHECK_OK(ff_image_preprocess(img, 80, 60, 0, FF_PIXEL_RGB8, SIZE, SIZE, in + (size_t)i * per, per));
        free(img);
    }
    float *maps = malloc(sizeof(float) * (size_t)nb * SIZE * SIZE), scores[10];
    CHECK_OK(ff_scorer_score_tensor(s, in, nb, maps, (size_t)nb * SIZE * SIZE, scores, 10));
    int64_t built = ff_scorer_plan_builds(s);
    for (int k = 0; k < 3; k++) CHECK_OK(ff_scorer_score_tensor(s, in, nb, maps, (size_t)nb * SIZE * SIZE, scores, 10));
    printf("backbone plans built by 3 more batches of 10: %lld\n", (long long)(ff_scorer_plan_builds(s) - built));
    CHECK(ff_scorer_plan_builds(s) == built);

    /* a failure in the last chunk (a huge finite value overflows the flow:
     * FF_E_NUMERIC there) leaves every output untouched */
    for (size_t i = 0; i < per; i++) in[9 * per + i] = 3e38f;
    float *maps2 = malloc(sizeof(float) * (size_t)nb * SIZE * SIZE), scores2[10];
    for (size_t i = 0; i < (size_t)nb * SIZE * SIZE; i++) maps2[i] = 42.0f;
    for (int i = 0; i < 10; i++) scores2[i] = 42.0f;
    ff_status st = ff_scorer_score_tensor(s, in, nb, maps2, (size_t)nb * SIZE * SIZE, scores2, 10);
    CHECK(st != FF_OK);
    printf("batch with an overflowing last image: %s (%s)\n", ff_status_string(st), ff_last_error_message());
    int untouched = 1;
    for (size_t i = 0; i < (size_t)nb * SIZE * SIZE; i++) untouched &= maps2[i] == 42.0f;
    for (int i = 0; i < 10; i++) untouched &= scores2[i] == 42.0f;
    CHECK(untouched);
    /* scores only: the same */
    st = ff_scorer_score_tensor(s, in, nb, NULL, 0, scores2, 10);
    CHECK(st != FF_OK);
    untouched = 1;
    for (int i = 0; i < 10; i++) untouched &= scores2[i] == 42.0f;
    CHECK(untouched);
    free(in);
    free(maps);
    free(maps2);
}

int main(void) {
    ff_backbone *bb = ft_backbone(44);
    ff_flow *flow = bb ? ft_trained_flow(bb, SIZE) : NULL;
    ff_scorer *s = NULL;
    CHECK(flow != NULL);
    if (flow) CHECK_OK(ff_scorer_create(flow, &s));
    if (!s) return ff_test_finish();

    const int w = 100, h = 80;
    uint8_t *rgb = ft_image(7, w, h, 1);
    const char *png = ft_path("rgb.png");
    CHECK_OK(ff_image_write_png(png, rgb, w, h, 0, FF_PIXEL_RGB8));
    uint8_t *grey = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++) grey[i] = rgb[3 * i + 1];
    const char *png_grey = ft_path("grey.png");
    CHECK_OK(ff_image_write_png(png_grey, grey, w, h, 0, FF_PIXEL_GRAY8));
    const char *jpgs[3] = {ft_path("base.jpg"), ft_path("prog.jpg"), ft_path("grey.jpg")};
    for (int k = 0; k < 3; k++) {
        unsigned long n = 0;
        unsigned char *j = encode_jpeg(rgb, w, h, k == 2, k == 1, &n);
        CHECK(write_bytes(jpgs[k], j, n) == 0);
        free(j);
    }
    test_jpeg_matches_libjpeg(rgb, w, h);

    for (int mode = 0; mode < 2; mode++) {
        CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, mode));
        const char *m = mode ? "image-size map" : "model-size map";
        char label[96];
        snprintf(label, sizeof label, "PNG RGB, %s", m);
        steady_file(s, png, label);
        snprintf(label, sizeof label, "PNG grey, %s", m);
        steady_file(s, png_grey, label);
        snprintf(label, sizeof label, "JPEG baseline, %s", m);
        steady_file(s, jpgs[0], label);
        snprintf(label, sizeof label, "JPEG progressive, %s", m);
        steady_file(s, jpgs[1], label);
        snprintf(label, sizeof label, "JPEG grey, %s", m);
        steady_file(s, jpgs[2], label);
    }
    /* pixels in memory */
    float map[MAXMAP], sc = 0;
    CHECK_OK(ff_scorer_score_image(s, rgb, w, h, 0, FF_PIXEL_RGB8, map, MAXMAP, &sc));
    begin_count();
    ff_status st = ff_scorer_score_image(s, rgb, w, h, 0, FF_PIXEL_RGB8, map, MAXMAP, &sc);
    end_count("score_image RGB8, image-size map");
    CHECK_OK(st);
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, FF_SCORER_MAP_MODEL_SIZE));

    test_plan_reuse(s);

    free(rgb);
    free(grey);
    ff_scorer_destroy(s);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}

#else
int main(void) {
    printf("skipped: AddressSanitizer owns malloc; allocation counting needs an uninstrumented build\n");
    return 77;
}
#endif
