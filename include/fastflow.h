/*
 * fastflow.h - public C API of libfastflow.
 *
 * libfastflow is unsupervised visual anomaly detection and localisation with
 * FastFlow (Yu et al. 2021): a frozen ImageNet backbone feeds 2D normalizing
 * flows trained on normal images only; the per-pixel likelihood is the
 * anomaly map and its maximum the image score.
 *
 * This is the only public header. Conventions (docs/api-conventions.md):
 *
 *  - Every fallible call returns an ff_status (int32_t): FF_OK (0) or a
 *    positive code from enum ff_status_code. ff_status_string() gives a static
 *    description; ff_last_error_message() the calling thread's detail of its
 *    last failure (which file, which tensor, which byte offset).
 *  - On failure, outputs stay untouched and nothing is leaked.
 *  - Constructors fill a trailing `**out`; destroy functions return void and
 *    accept NULL.
 *  - Options are typed setters keyed by numbered enums; no struct is ever
 *    passed by value, there are no callbacks, unions, bit-fields or varargs,
 *    and every integer has a fixed width. Results go into caller-owned buffers
 *    with an explicit capacity, after a shape query.
 *  - Paths are UTF-8 `const char *`.
 *
 * Threading:
 *  - ff_backbone and ff_flow are immutable after creation and may be used by
 *    any number of threads at once (like zstd's CDict or whisper's context).
 *  - ff_extractor, ff_scorer and ff_trainer are working objects: each is used
 *    by one thread at a time (like zstd's CCtx). Create one per thread.
 *  - Working objects keep their parents alive (reference counting), so
 *    objects may be destroyed in any order.
 *  - Functions marked "global" change library-wide settings.
 */
#ifndef FASTFLOW_H
#define FASTFLOW_H

#include <stddef.h>
#include <stdint.h>

/* Compile-time version of this header; ff_version_number() gives the
 * library's. MAJOR is the ABI (the soname); minor releases only add. */
#define FF_VERSION_MAJOR 0
#define FF_VERSION_MINOR 1
#define FF_VERSION_PATCH 0
#define FF_VERSION_NUMBER (FF_VERSION_MAJOR * 10000 + FF_VERSION_MINOR * 100 + FF_VERSION_PATCH)
#define FF_VERSION_STRING "0.1.0"

/* Export macro: define FF_API before including this header to override it
 * (binding generators define it empty). */
#ifndef FF_API
#if defined(_WIN32) && !defined(FF_STATIC)
#ifdef FF_BUILDING
#define FF_API __declspec(dllexport)
#else
#define FF_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define FF_API __attribute__((visibility("default")))
#else
#define FF_API
#endif
#endif

/* Stability tiers (docs/versioning.md). A function without a tier marker is
 * stable: its signature and documented behaviour hold for every release of
 * this major version, checked against an ABI baseline. FF_EXPERIMENTAL
 * marks low-level pieces that may still change, or be removed, in a minor
 * release (listed in its release notes); it expands to nothing by default
 * and may be defined before including this header, e.g. to an attribute. */
#ifndef FF_EXPERIMENTAL
#define FF_EXPERIMENTAL
#endif
/* FF_DEPRECATED(msg) marks a function due for removal at the next major
 * version: calls to it warn with `msg` (e.g. "use ff_x2") on GCC, Clang and
 * MSVC, and compile silently elsewhere. Define it empty before including
 * this header to silence the warnings. */
#ifndef FF_DEPRECATED
#if defined(__GNUC__) || defined(__clang__)
#define FF_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#define FF_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#define FF_DEPRECATED(msg)
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes, errors, version                                            */
/* ------------------------------------------------------------------------ */

/* A status is an int32_t holding a value of enum ff_status_code. Values are
 * pinned and append-only: new codes may be added in minor releases. */
typedef int32_t ff_status;

enum ff_status_code {
    FF_OK = 0,
    FF_E_INVALID_ARGUMENT = 1, /* NULL, out-of-range value, wrong size, NaN    */
    FF_E_IO = 2,               /* a file could not be opened, read or written */
    FF_E_BAD_FORMAT = 3,       /* corrupt/truncated image, tensor or model    */
    FF_E_UNSUPPORTED = 4,      /* valid but not supported (e.g. unknown arch) */
    FF_E_OUT_OF_MEMORY = 5,
    FF_E_BUFFER_TOO_SMALL = 6, /* caller buffer capacity below what is needed */
    FF_E_LIMIT_EXCEEDED = 7,   /* e.g. image above the configured pixel limit */
    FF_E_STATE = 8,            /* call not valid in the object's current state */
    FF_E_NUMERIC = 9,          /* NaN/Inf appeared in a computation            */
    FF_E_INTERNAL = 10         /* a bug or a oneDNN failure; please report     */
};

/* Static, never NULL; "unknown status" for unknown codes. Any thread.
 * The descriptions: "success", "invalid argument", "input/output error", "bad format",
 * "unsupported", "out of memory", "buffer too small", "limit exceeded", "invalid state",
 * "numerical error", "internal error". Does not clear the last error message. */
FF_API const char *ff_status_string(ff_status status);

/* Detail of the calling thread's last failure; "" if none. Valid until the
 * calling thread's next libfastflow call. Never NULL. Any thread.
 * E.g. "model 'm.safetensors': missing tensor 'norms.0.weight'". Thread-local storage owned by
 * the library, at most 1023 bytes (longer messages are truncated); every ff_status function
 * clears it on entry, so copy it to keep it. */
FF_API const char *ff_last_error_message(void);

/* Runtime version: MAJOR*10000 + MINOR*100 + PATCH, and "MAJOR.MINOR.PATCH".
 * 0.1.0 is 100. Compare with the header's FF_VERSION_NUMBER to detect a header/library mismatch.
 * Static strings; any thread. */
FF_API uint32_t ff_version_number(void);
FF_API const char *ff_version_string(void);
/* Build details: oneDNN version and runtime, codecs. Static string.
 * E.g. "libfastflow 0.1.0; oneDNN 2.6.3 (N/A, OpenMP runtime); libpng 1.6.39; libjpeg 62": for
 * logs and bug reports, not a stable format. Any thread. */
FF_API const char *ff_build_info(void);

/* Library-wide settings (global: affect every thread). */
enum ff_global_param {
    /* i64. Images with more pixels than this are rejected with
     * FF_E_LIMIT_EXCEEDED before any pixel is decoded (decompression-bomb
     * guard). Default 100000000, bounds [1, 2^40]. */
    FF_GLOBAL_MAX_IMAGE_PIXELS = 1,
    /* i64. Threads each computation uses (OpenMP inside oneDNN and the
     * library's own loops); 0 = all cores, the default. Bounds [0, 1024].
     * A scorer, trainer or extractor may override it for itself
     * (FF_*_NUM_THREADS). The count applies for the duration of each call:
     * the calling thread's OpenMP setting (omp_get_max_threads) is the same
     * after a call as before it (docs/threading.md). */
    FF_GLOBAL_NUM_THREADS = 2,
    /* i64 0/1. 1 (the default): a JPEG's EXIF Orientation tag (1-8, as
     * phone and camera pictures carry it) is applied when decoding, as
     * PIL's ImageOps.exif_transpose does: pixels come out upright, and
     * probing reports the upright size (orientations 5-8 swap width and
     * height). 0: pixels as stored, the tag ignored. A malformed EXIF block
     * counts as no orientation. PNG files are never re-oriented. */
    FF_GLOBAL_EXIF_ORIENTATION = 3
};
/* Sets (get: reads back into *value_out) a library-wide setting, enum ff_global_param. Global:
 * takes effect for calls that start afterwards, on every thread. FF_GLOBAL_NUM_THREADS is
 * applied (omp_set_num_threads) at the start of each computing call (scoring, training,
 * extraction), on the thread that makes it. Errors: FF_E_INVALID_ARGUMENT for an unknown key, a
 * value outside the key's bounds (the setting is unchanged) or a NULL value_out. */
FF_API ff_status ff_global_set_i64(int32_t key, int64_t value);
FF_API ff_status ff_global_get_i64(int32_t key, int64_t *value_out);

/* CPU features a program may ask about (ff_cpu_supports). Values are
 * pinned. */
enum ff_cpu_feature {
    /* native bf16 arithmetic (AVX512-BF16 or AMX), as oneDNN sees it (the
     * environment variable ONEDNN_MAX_CPU_ISA lowers it): FF_PRECISION_BF16
     * is available */
    FF_CPU_BF16 = 1
};
/* *supported_out = 1 when this CPU has `feature` (enum ff_cpu_feature),
 * else 0. Any thread. Errors: FF_E_INVALID_ARGUMENT (unknown feature,
 * NULL supported_out). */
FF_API ff_status ff_cpu_supports(int32_t feature, int32_t *supported_out);

/* Arithmetic precision of the networks (FF_SCORER_PRECISION; for
 * training, FF_TRAINER_PRECISION). Values are pinned. */
enum ff_precision {
    /* float32 everywhere: results match the PyTorch reference to float
     * rounding (the default). */
    FF_PRECISION_FP32 = 0,
    /* bfloat16 inputs and weights for the backbone's convolutions and the
     * flows' subnet convolutions (accumulation in float32); LayerNorm
     * statistics, the coupling's elementwise math, log-dets and anomaly
     * maps stay in float32/double. Maps move by ~3e-3 of their range.
     * Faster than FP32 only where the CPU's bf16 dot products outrun its
     * float32 FMAs (AMX); where they issue at half the FMA rate, as on
     * the machine docs/performance.md was measured on, it is slower.
     * Transformer backbones keep float32 matmuls. Needs
     * ff_cpu_supports(FF_CPU_BF16), else FF_E_UNSUPPORTED. */
    FF_PRECISION_BF16 = 1,
    /* float32, with the 3x3 stride-1 convolutions (backbone and flows)
     * computed by Winograd's algorithm where oneDNN has it for the shape
     * (AVX-512 CPUs; elsewhere this equals FF_PRECISION_FP32): fewer
     * multiplications, rounded differently; maps stay within 1e-4 of
     * FF_PRECISION_FP32's (docs/performance.md). Transformer matmuls are
     * unchanged. */
    FF_PRECISION_FP32_WINOGRAD = 2
};

/* Options described at run time, in the spirit of ZSTD_cParam_getBounds:
 * every key of every keyed object has one descriptor (type, bounds,
 * default, flags) in the library, which its setters enforce, so bindings
 * and tools can list and check options without copying them. */
enum ff_object_kind {
    FF_OBJECT_GLOBAL = 1,       /* ff_global_set/get_*, enum ff_global_param */
    FF_OBJECT_FLOW_OPTIONS = 2, /* ff_flow_options_*, ff_flow_get_*; enum ff_flow_param */
    FF_OBJECT_SCORER = 3,       /* ff_scorer_set/get_*, enum ff_scorer_param */
    FF_OBJECT_TRAINER = 4,      /* ff_trainer_set/get_*, enum ff_trainer_param */
    FF_OBJECT_EXTRACTOR = 5     /* ff_extractor_set/get_*, enum ff_extractor_param */
};
/* Value types: the setter/getter suffix a key takes. */
enum ff_param_type {
    FF_PARAM_I32 = 1,
    FF_PARAM_I64 = 2,
    FF_PARAM_F32 = 3
};
/* Flags of a key (bits, combined with |). */
enum ff_param_flag {
    FF_PARAM_READ_ONLY = 1,         /* get only (e.g. the trainer's counters)     */
    FF_PARAM_MIN_EXCLUSIVE = 2,     /* the minimum itself is invalid: (min, max]  */
    FF_PARAM_MULTIPLE_OF_16 = 4,    /* valid values are multiples of 16           */
    FF_PARAM_BACKBONE_DEFAULT = 8   /* the default depends on the backbone; the
                                       reported one is the ResNets' (what fresh
                                       ff_flow_options report)                    */
};
/* Describes key `key` of object kind `kind`: its type (enum ff_param_type),
 * bounds (valid values are min <= v <= max, or min < v <= max with
 * FF_PARAM_MIN_EXCLUSIVE; f32 values must also be finite), the value a
 * fresh object holds, and flags (enum ff_param_flag). i32 and f32 values
 * are exact in a double; i64 bounds beyond 2^53 are rounded, so a key that
 * takes every int64_t (the seeds) reports -2^63 and 2^63. Any output may be
 * NULL. FF_E_INVALID_ARGUMENT for an unknown kind or key. Any thread. */
FF_API ff_status ff_param_info(int32_t kind, int32_t key, int32_t *type_out, double *min_out,
                               double *max_out, double *default_out, int32_t *flags_out);
/* The key's short name ("steps" for FF_FLOW_STEPS: the enumerator without
 * its FF_<OBJECT>_ prefix, in lower case), static; NULL if unknown. */
FF_API const char *ff_param_name(int32_t kind, int32_t key);
/* The key of a short name (as ff_param_name returns; case-sensitive).
 * FF_E_INVALID_ARGUMENT for an unknown kind or name or a NULL pointer. */
FF_API ff_status ff_param_key(int32_t kind, const char *name, int32_t *key_out);
/* Enumerates a kind's keys: count (read-only counters included), then the
 * key at index 0..count-1 (in increasing key order). FF_E_INVALID_ARGUMENT
 * for an unknown kind, an index out of range or a NULL pointer. */
FF_API ff_status ff_param_count(int32_t kind, int32_t *count_out);
FF_API ff_status ff_param_key_at(int32_t kind, int32_t index, int32_t *key_out);

/* ------------------------------------------------------------------------ */
/* Images                                                                   */
/* ------------------------------------------------------------------------ */

/* 8-bit interleaved pixel formats. Values are pinned. */
enum ff_pixel_format {
    FF_PIXEL_GRAY8 = 1,
    FF_PIXEL_RGB8 = 2,
    FF_PIXEL_RGBA8 = 3,
    FF_PIXEL_BGR8 = 4
};

/* Pixel buffers are described by pixels, width, height, row_stride (bytes, 0 = packed) and
 * pixel_format (enum ff_pixel_format: GRAY8 grey; RGB8 R, G, B; RGBA8 R, G, B, A, alpha ignored
 * on input; BGR8 B, G, R, OpenCV's order). Every image function may be called from any thread
 * and keeps no state. Decoding obeys FF_GLOBAL_MAX_IMAGE_PIXELS (default 100 MP) and a hard
 * limit of 1,000,000 pixels per side, checked from the header before any pixel memory is
 * allocated. */

/* Bytes per pixel of a format (1, 3, 4 or 3), or 0 for an unknown format.
 * No error is set for an unknown format. */
FF_API int32_t ff_pixel_format_channels(int32_t pixel_format);

/* Reads a PNG or JPEG file's header: its width, height and number of colour
 * channels in the file (1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha or
 * CMYK; a PNG with a tRNS colour counts its alpha). Any output pointer may
 * be NULL. Decodes no pixels, so the pixel limit is not applied here: the
 * size is reported as the header declares it (upright: a JPEG with EXIF
 * orientation 5-8 reports width and height swapped, as decoded; see
 * FF_GLOBAL_EXIF_ORIENTATION). Any thread.
 * Errors: FF_E_IO (cannot open or read; not a regular file: a FIFO, device
 * or folder is refused without blocking), FF_E_BAD_FORMAT (empty, not PNG/JPEG, corrupt or
 * truncated header). The _memory variants read an encoded file held in memory (size bytes at
 * data, borrowed during the call only; data may be NULL only when size is 0, which is
 * FF_E_BAD_FORMAT: empty) and have no FF_E_IO. */
FF_API ff_status ff_image_probe_file(const char *path, int32_t *channels_out, int32_t *width_out,
                                     int32_t *height_out);
FF_API ff_status ff_image_probe_memory(const void *data, size_t size, int32_t *channels_out,
                                       int32_t *width_out, int32_t *height_out);

/* Decodes a PNG (8/16 bit, grey, grey+alpha, RGB, RGBA, palette) or JPEG
 * (grey, RGB/YCbCr, CMYK) into a caller buffer in `pixel_format`, upright
 * (a JPEG's EXIF orientation applied, FF_GLOBAL_EXIF_ORIENTATION), with rows
 * `row_stride` bytes apart (0 = packed, width * channels). `capacity` is the
 * buffer size in bytes; it must be at least (height-1)*stride + width*channels.
 * 16-bit samples keep their high byte; alpha is dropped (not composited)
 * for GRAY8/RGB8/BGR8 and set to 255 for RGBA8 when the file has none; grey
 * is replicated for colour formats; colour to GRAY8 uses PIL's 'L' weights
 * (ITU-R 601-2: L = R*299/1000 + G*587/1000 + B*114/1000, rounded). CMYK
 * JPEGs become RGB with PIL's formula, read as Adobe's inverted CMYK when
 * the Adobe marker is present (PIL assumes it always). PNG gamma and ICC
 * profiles are ignored, as PIL does: decoded pixels equal PIL's
 * Image.convert("RGB") for 8-bit files.
 * Errors: FF_E_IO (cannot read the file), FF_E_BAD_FORMAT (empty, not a
 * PNG/JPEG, corrupt or truncated data, including a missing PNG IEND or JPEG
 * EOI and JPEG entropy data that libjpeg only warns about), FF_E_UNSUPPORTED
 * (a JPEG colour space other than grey, YCbCr, RGB, CMYK or YCCK),
 * FF_E_LIMIT_EXCEEDED (above FF_GLOBAL_MAX_IMAGE_PIXELS or a side above
 * 1000000, checked before any pixel memory is allocated),
 * FF_E_BUFFER_TOO_SMALL. The buffer is written only on success. Any thread.
 * FF_E_INVALID_ARGUMENT: an unknown format or a stride below width * channels. Probe first to
 * learn the size. ff_image_decode_memory decodes an encoded file held in memory (borrowed during
 * the call only) and has no FF_E_IO. */
FF_API ff_status ff_image_decode_file(const char *path, int32_t pixel_format, uint8_t *pixels,
                                      size_t capacity, size_t row_stride);
FF_API ff_status ff_image_decode_memory(const void *data, size_t size, int32_t pixel_format,
                                        uint8_t *pixels, size_t capacity, size_t row_stride);

/* Writes an 8-bit PNG, GRAY8 or RGB8 (RGBA8/BGR8 are converted), atomically:
 * a temporary file in the same folder is written, synced and renamed.
 * The target is either the old file or the complete new one. The buffer has no stated capacity:
 * it must hold (height-1)*stride + width*channels bytes. Errors: FF_E_INVALID_ARGUMENT (empty
 * path, a size not positive or a side above 1000000, unknown format, short stride), FF_E_IO
 * (cannot create, write, sync or rename), FF_E_OUT_OF_MEMORY. Any thread. */
FF_API ff_status ff_image_write_png(const char *path, const uint8_t *pixels, int32_t width,
                                    int32_t height, size_t row_stride, int32_t pixel_format);

/* Pre-processing exactly as the model expects: scale to [0,1] floats,
 * antialiased bilinear resize to out_width x out_height computed in float
 * (torchvision Resize(antialias=True) on a float tensor), then ImageNet
 * normalisation. Writes planar float32 [3, out_height, out_width] (grey is
 * replicated, alpha dropped). `capacity` counts floats. Output sides are
 * limited to [1, 16384], the input to FF_GLOBAL_MAX_IMAGE_PIXELS. Results
 * are bit-identical to torchvision 0.14 / PyTorch 1.13 on x86-64 with FMA,
 * and within a few float ulps elsewhere. Any thread.
 * ImageNet normalisation: mean 0.485/0.456/0.406, std 0.229/0.224/0.225; no rounding back to 8
 * bits after the resize. capacity must be at least 3 * out_height * out_width. Errors:
 * FF_E_BUFFER_TOO_SMALL, FF_E_LIMIT_EXCEEDED, FF_E_OUT_OF_MEMORY (temporary resize buffers). */
FF_API ff_status ff_image_preprocess(const uint8_t *pixels, int32_t width, int32_t height,
                                     size_t row_stride, int32_t pixel_format, int32_t out_width,
                                     int32_t out_height, float *out, size_t capacity);

/* ------------------------------------------------------------------------ */
/* Backbones                                                                */
/* ------------------------------------------------------------------------ */

/* A frozen ImageNet feature extractor. Immutable after load; any thread. */
typedef struct ff_backbone ff_backbone;
/* A per-thread working object that runs a backbone (primitives, buffers). */
typedef struct ff_extractor ff_extractor;

/* Architectures: "resnet18", "resnet34", "resnet50", "wide_resnet50_2" (3 feature maps: layer1,
 * layer2, layer3 at strides 4, 8, 16; channels 64/128/256 for resnet18/34, 256/512/1024 for
 * resnet50 and wide_resnet50_2; any input with sides divisible by 16 in [32, 4096]), and the
 * transformers "deit_base_distilled_patch16_384" ([768, 24, 24] at 384x384 only), "cait_m48_448"
 * ([768, 28, 28] at 448x448 only), "deit_small_distilled_patch16_224" and "cait_s24_224" ([384,
 * 14, 14] at 224x224 only), each with one feature map. */

/* Loads a backbone from a safetensors state dict as published for
 * torchvision/timm (e.g. timm's resnet18.tv_in1k model.safetensors).
 * `arch` is one of "resnet18", "resnet34", "resnet50", "wide_resnet50_2".
 * Tensor names may carry a prefix such as "feature_extractor."; it is found
 * automatically (a file holding two models under different prefixes is
 * FF_E_BAD_FORMAT). BatchNorm is folded into the convolutions at load.
 * F32, F16, BF16 and F64 tensors are accepted; layer4, fc and
 * num_batches_tracked are ignored. Errors: FF_E_UNSUPPORTED for an unknown
 * arch (the message lists the supported ones); FF_E_BAD_FORMAT naming the
 * tensor and both shapes for a missing or mis-shaped tensor, and naming
 * both architectures for weights of another ResNet.
 * Vision transformers (timm's model.safetensors names): "deit_base_distilled_patch16_384"
 * (blocks 0..7 then the final norm, the cls and dist tokens dropped: one
 * map [768, 24, 24] at 384x384), "cait_m48_448" (blocks 0..40 then the
 * final norm: [768, 28, 28] at 448x448), and the smaller
 * "deit_small_distilled_patch16_224" (blocks 0..7, [384, 14, 14]) and
 * "cait_s24_224" (all 24 trunk blocks, [384, 14, 14]). They take only their
 * own input side (the position embedding is not interpolated); unused
 * blocks, heads and CaiT's class-attention blocks are ignored; weights of
 * the other family are FF_E_BAD_FORMAT naming it. A flow over a
 * transformer has one level and no flow LayerNorm.
 * Tensors are converted to float32; ResNet BatchNorm uses eps 1e-5 and the weights are laid out
 * once in oneDNN's preferred formats for the default shape. The file is read whole and closed
 * before return; *out is a new backbone with one reference, owned by the caller. More errors:
 * FF_E_IO; FF_E_BAD_FORMAT also for malformed safetensors, a non-float dtype or a negative
 * BatchNorm variance; FF_E_OUT_OF_MEMORY; FF_E_INTERNAL (oneDNN). ff_backbone_load_from_memory
 * reads a safetensors file held in memory (size bytes at data, read during the call only: the
 * backbone keeps its own copy) and has no FF_E_IO. */
FF_API ff_status ff_backbone_load(const char *arch, const char *weights_path, ff_backbone **out);
FF_API ff_status ff_backbone_load_from_memory(const char *arch, const void *data, size_t size,
                                              ff_backbone **out);
/* Drops the caller's reference: extractors and flows hold their own, so
 * this may be called while they are still in use. NULL is ignored.
 * The memory is freed with the last reference. The count is atomic, so a backbone shared by
 * other threads' flows and extractors may be released from any thread; do not use the handle
 * afterwards. */
FF_API void ff_backbone_destroy(ff_backbone *backbone);

/* The supported architectures, for ff_backbone_load: count, and the name
 * at index 0..count-1 (static; NULL outside that range). Any thread.
 * 0.1 has 8: "resnet18", "resnet34", "resnet50", "wide_resnet50_2", then
 * "deit_base_distilled_patch16_384", "cait_m48_448",
 * "deit_small_distilled_patch16_224", "cait_s24_224". */
FF_API int32_t ff_backbone_arch_count(void);
FF_API const char *ff_backbone_arch_name(int32_t index);

/* The architecture name given at load. Static for the backbone's lifetime.
 * E.g. "resnet18". NULL for a NULL backbone. Shared object. */
FF_API const char *ff_backbone_arch(const ff_backbone *backbone);
/* Number of feature maps (3 for ResNets, 1 for transformers).
 * Shared object. */
FF_EXPERIMENTAL
FF_API ff_status ff_backbone_num_levels(const ff_backbone *backbone, int32_t *levels_out);
/* Shape [channels, height, width] of feature level `level` for an input of
 * in_width x in_height (both divisible by 16, between 32 and 4096;
 * transformers: exactly their input side, else FF_E_INVALID_ARGUMENT).
 * level is 0-based; for ResNets H = in_height / 4, 8, 16 at levels 0, 1, 2. All three outputs
 * are required. FF_E_INVALID_ARGUMENT also for a level outside [0, levels). Shared object. */
FF_EXPERIMENTAL
FF_API ff_status ff_backbone_level_shape(const ff_backbone *backbone, int32_t level,
                                         int32_t in_width, int32_t in_height,
                                         int32_t *channels_out, int32_t *width_out,
                                         int32_t *height_out);

/* An ff_extractor runs a backbone: oneDNN primitives, activation buffers and the last run's
 * feature maps. One thread at a time per extractor; create one per thread. Most users never need
 * one (scorers and trainers have their own); it is for reading features directly (fastflow
 * features). */

/* The extractor keeps a reference to the backbone. Its oneDNN primitives
 * and buffers are created at the first run for a (batch, width, height)
 * and reused while that shape stays the same; a run with another shape
 * replaces them (that run is slower).
 * Errors: FF_E_OUT_OF_MEMORY, FF_E_INTERNAL. ff_extractor_destroy frees the extractor and drops
 * its backbone reference (NULL is ignored; not concurrently with a call on the same extractor). */
FF_EXPERIMENTAL
FF_API ff_status ff_extractor_create(const ff_backbone *backbone, ff_extractor **out);
FF_EXPERIMENTAL
FF_API void ff_extractor_destroy(ff_extractor *extractor);

/* Runs the backbone on a pre-processed NCHW float32 batch
 * [batch, 3, in_height, in_width] (as ff_image_preprocess writes it) and
 * keeps every feature level inside the extractor until the next run.
 * batch in [1, 4096]; sides divisible by 16 and in [32, 4096]. NaN or Inf
 * in the input is FF_E_INVALID_ARGUMENT (the previous run's results stay
 * readable). Object-exclusive.
 * Images are back to back; input is read during the call only; transformers take exactly their
 * side. Errors: FF_E_INVALID_ARGUMENT (bad sizes, NaN or Inf), FF_E_OUT_OF_MEMORY (buffers for a
 * new shape), FF_E_INTERNAL (oneDNN). */
FF_EXPERIMENTAL
FF_API ff_status ff_extractor_run(ff_extractor *extractor, const float *input, int32_t batch,
                                  int32_t in_width, int32_t in_height);
/* Extractor options (ff_extractor_set_i32 / _get_i32). */
enum ff_extractor_param {
    /* i32, default 0 = FF_GLOBAL_NUM_THREADS, [0, 1024]: threads of this
     * extractor's runs. */
    FF_EXTRACTOR_NUM_THREADS = 1
};
/* Sets (get: reads back) an extractor option, enum ff_extractor_param.
 * Object-exclusive. Errors: FF_E_INVALID_ARGUMENT (unknown key, a value out
 * of range: the option is unchanged; a NULL pointer). */
FF_EXPERIMENTAL
FF_API ff_status ff_extractor_set_i32(ff_extractor *extractor, int32_t key, int32_t value);
FF_EXPERIMENTAL
FF_API ff_status ff_extractor_get_i32(const ff_extractor *extractor, int32_t key,
                                      int32_t *value_out);
/* Copies feature level `level` of the last run, NCHW float32
 * [batch, C, H, W] (ff_backbone_level_shape), into `out` (capacity in
 * floats). FF_E_STATE before a successful run, FF_E_BUFFER_TOO_SMALL when
 * capacity < batch*C*H*W.
 * The maps are the backbone's, before any LayerNorm. FF_E_INVALID_ARGUMENT for a level out of
 * range. Object-exclusive: it reads the extractor's buffers, so do not overlap it with
 * ff_extractor_run. */
FF_EXPERIMENTAL
FF_API ff_status ff_extractor_read(const ff_extractor *extractor, int32_t level, float *out,
                                   size_t capacity);

/* ------------------------------------------------------------------------ */
/* Flow models                                                              */
/* ------------------------------------------------------------------------ */

/* A FastFlow model: per feature level a trainable LayerNorm and a stack of
 * affine coupling steps, over a backbone. Immutable once created (training
 * happens in an ff_trainer, which hands out trained ff_flow snapshots);
 * any thread. */
typedef struct ff_flow ff_flow;
/* Options for ff_flow_create; a plain settings holder, one thread at a time. */
typedef struct ff_flow_options ff_flow_options;

/* Keys 1-5 default to the backbone's settings (filled in by ff_flow_create
 * for every key the caller did not set): ResNets 256 / 8 / 1 for resnet18,
 * 0 (alternating) for the others / 1.0; transformers (DeiT, CaiT) their
 * native input side (384, 448, 224) / 20 / 0 / 0.16: the paper's settings.
 * ff_flow_options_get_* reports resnet18's values for unset keys;
 * ff_flow_get_* reads back a flow's effective values. */
enum ff_flow_param {
    FF_FLOW_INPUT_HEIGHT = 1,  /* i32, default the backbone's (ResNets 256, ViTs
                                  their native side), divisible by 16, [32, 4096] */
    FF_FLOW_INPUT_WIDTH = 2,   /* i32, default as FF_FLOW_INPUT_HEIGHT           */
    FF_FLOW_STEPS = 3,         /* i32, default ResNets 8, ViTs 20, [1, 64]       */
    FF_FLOW_CONV3X3_ONLY = 4,  /* i32 0/1, default resnet18 1 (every subnet
                                  uses 3x3 convolutions); resnet34, resnet50,
                                  wide_resnet50_2 and ViTs 0 (alternates 3x3
                                  and 1x1)                                      */
    FF_FLOW_HIDDEN_RATIO = 5,  /* f32, default ResNets 1.0, ViTs 0.16, (0, 16]:
                                  subnet hidden channels = int(c1 * ratio),
                                  c1 = C - C/2                                  */
    FF_FLOW_CLAMP = 6,         /* f32, default 2.0, (0, 100]: the coupling's
                                  log-scale is clamp * tanh(0.1 * raw) (FrEIA's
                                  old form that anomalib uses)                  */
    FF_FLOW_SEED = 7           /* i64, default 0: seeds weights and permutations */
};

/* A plain settings holder for ff_flow_create, keyed by enum ff_flow_param; one thread at a time.
 * ff_flow_options_create makes options with no key set (ff_flow_create gives every unset key the
 * backbone's default; the getters report the ResNet values for unset keys); FF_E_OUT_OF_MEMORY.
 * ff_flow_options_destroy frees them (NULL is ignored; flows created from them do not refer to
 * them).
 * Each key has one type: the setter or getter of another type, an unknown key or a value out of
 * the key's bounds is FF_E_INVALID_ARGUMENT (e.g. "flow option FF_FLOW_STEPS is i32, not f32")
 * and leaves the option unchanged. i32: FF_FLOW_INPUT_HEIGHT, FF_FLOW_INPUT_WIDTH,
 * FF_FLOW_STEPS, FF_FLOW_CONV3X3_ONLY; i64: FF_FLOW_SEED (any value); f32: FF_FLOW_HIDDEN_RATIO,
 * FF_FLOW_CLAMP (NaN and infinities rejected). */
FF_API ff_status ff_flow_options_create(ff_flow_options **out);
FF_API void ff_flow_options_destroy(ff_flow_options *options);
FF_API ff_status ff_flow_options_set_i32(ff_flow_options *options, int32_t key, int32_t value);
FF_API ff_status ff_flow_options_set_i64(ff_flow_options *options, int32_t key, int64_t value);
FF_API ff_status ff_flow_options_set_f32(ff_flow_options *options, int32_t key, float value);
FF_API ff_status ff_flow_options_get_i32(const ff_flow_options *options, int32_t key,
                                         int32_t *value_out);
FF_API ff_status ff_flow_options_get_i64(const ff_flow_options *options, int32_t key,
                                         int64_t *value_out);
FF_API ff_status ff_flow_options_get_f32(const ff_flow_options *options, int32_t key,
                                         float *value_out);

/* A freshly initialised (untrained) flow for `backbone`; options may be NULL
 * for the defaults. Options left unset take the backbone's defaults (see
 * enum ff_flow_param). The flow keeps the backbone alive.
 * options are copied, not kept. FF_FLOW_CLAMP and FF_FLOW_SEED default the same for every
 * backbone. Parameters are initialised as anomalib does, from FF_FLOW_SEED
 * (docs/model-format.md); the same seed gives the same flow on every platform. Errors:
 * FF_E_INVALID_ARGUMENT (an input size that does not suit the backbone: a transformer takes only
 * its own side; a hidden ratio that gives no hidden channel), FF_E_OUT_OF_MEMORY. */
FF_API ff_status ff_flow_create(const ff_backbone *backbone, const ff_flow_options *options,
                                ff_flow **out);
/* Loads a model file (safetensors, docs/model-format.md). With backbone ==
 * NULL the backbone embedded in the file is used; otherwise the given one
 * (its architecture must match the file's).
 * The embedded backbone (feature_extractor.* tensors) is loaded as strictly as ff_backbone_load;
 * with a backbone given, the flow takes a reference and embedded weights are ignored. Everything
 * is validated before use (docs/model-format.md). Errors: FF_E_IO; FF_E_BAD_FORMAT (malformed
 * container, a missing, malformed or out-of-range metadata key, a missing or mis-shaped tensor,
 * NaN/infinite values, a w_perm that is not a permutation, a tensor the metadata does not
 * account for, a bad embedded backbone); FF_E_UNSUPPORTED (format_version other than 1, an
 * unknown architecture); FF_E_INVALID_ARGUMENT (the given backbone's architecture differs from
 * the file's, or none given and none embedded); FF_E_OUT_OF_MEMORY. */
FF_API ff_status ff_flow_load(const char *path, const ff_backbone *backbone, ff_flow **out);
/* Saves atomically (temporary file, fsync, rename). embed_backbone = 1 writes
 * the backbone weights too, so the file deploys alone.
 * The embedded weights are the backbone's as loaded (BatchNorm unfolded); embed_backbone 0
 * writes only the flow (load it with a backbone passed to ff_flow_load). Shared object: a flow
 * may be saved while other threads score with it. Errors: FF_E_INVALID_ARGUMENT (empty path,
 * embed_backbone not 0/1), FF_E_IO, FF_E_OUT_OF_MEMORY. ff_flow_destroy drops the caller's
 * reference (scorers and trainers hold their own; the flow is freed with the last one); NULL is
 * ignored. */
FF_API ff_status ff_flow_save(const ff_flow *flow, const char *path, int32_t embed_backbone);
FF_API void ff_flow_destroy(ff_flow *flow);

/* The flow's backbone (borrowed; valid while the flow lives).
 * Do not destroy it; to keep it longer, keep the flow. NULL for a NULL flow. */
FF_API const ff_backbone *ff_flow_backbone(const ff_flow *flow);
/* Reads a creation option back (FF_FLOW_* keys).
 * Also for loaded flows (from the file's metadata; FF_FLOW_SEED is 0 for a file without a seed
 * key). Errors: FF_E_INVALID_ARGUMENT (unknown key or another type). Shared object. */
FF_API ff_status ff_flow_get_i32(const ff_flow *flow, int32_t key, int32_t *value_out);
FF_API ff_status ff_flow_get_i64(const ff_flow *flow, int32_t key, int64_t *value_out);
FF_API ff_status ff_flow_get_f32(const ff_flow *flow, int32_t key, float *value_out);

/* ------------------------------------------------------------------------ */
/* Training                                                                 */
/* ------------------------------------------------------------------------ */

/* Trains a copy of a flow on normal images. The caller drives it: add
 * images, then run one batch or one epoch per call and read the counters, so
 * any caller can draw progress or stop early. One thread at a time.
 *
 * Images may be added and the batch size changed only between epochs
 * (FF_E_STATE in the middle of one); the seed only before the first batch.
 * The learning rate and weight decay may change at any time. A run is
 * reproducible for the same flow, images (in the same order), settings and
 * thread count (FF_TRAINER_NUM_THREADS, or FF_GLOBAL_NUM_THREADS at 0).
 * Memory: 16 bytes per flow parameter (parameters, gradients, Adam's two
 * moments) plus the feature cache (and 4 with FF_TRAINER_EMA_DECAY). */
typedef struct ff_trainer ff_trainer;

enum ff_trainer_param {
    FF_TRAINER_BATCH_SIZE = 1,    /* i32, default 32, [1, 4096], between epochs */
    FF_TRAINER_LEARNING_RATE = 2, /* f32, default 1e-3, (0, 1]                 */
    FF_TRAINER_WEIGHT_DECAY = 3,  /* f32, default 1e-5, [0, 1] (L2, not AdamW) */
    FF_TRAINER_SEED = 4,          /* i64, default 0: shuffling; before the first
                                     batch                                      */
    FF_TRAINER_NUM_THREADS = 5,   /* i32, default 0 = FF_GLOBAL_NUM_THREADS,
                                     [0, 1024]: threads of this trainer's calls */
    /* i64, bytes, default 0 = no limit, >= 0; settable only before the
     * first image is added (FF_E_STATE after). The cached features of the
     * first floor(CACHE_MEMORY / bytes per image) images stay in memory;
     * the rest are written to a temporary file in $TMPDIR (else /tmp),
     * deleted when the trainer is destroyed, and read back per batch. The
     * trained model is bit-identical with any budget. */
    FF_TRAINER_CACHE_MEMORY = 6,
    /* f32, default 0 = off, [0, 0.999]; settable only before the first
     * batch (FF_E_STATE after). An exponential moving average of the
     * parameters over epochs: after each completed epoch e (1-based),
     * ema = params at e = 1, else decay * ema + (1 - decay) * params, in
     * float32. When on, ff_trainer_snapshot returns the average (and
     * checkpoints carry it); training itself is unchanged. Memory: 4 more
     * bytes per flow parameter. */
    FF_TRAINER_EMA_DECAY = 7,
    /* i32, enum ff_precision, default FF_PRECISION_FP32; settable only
     * before the first batch (FF_E_STATE after). FF_PRECISION_BF16 runs the
     * flows' subnet convolutions (forward, backward-data, backward-weights)
     * on bf16 inputs, weights and output gradients, accumulating in
     * float32; the parameters, their gradients, Adam's moments, LayerNorm,
     * couplings, log-dets, the loss and the feature cache stay float32.
     * Gradients move by up to a few percent (relative L2 per tensor,
     * measured on small flows); runs are reproducible as in float32, but
     * not equal to float32's. Needs
     * ff_cpu_supports(FF_CPU_BF16), else FF_E_UNSUPPORTED.
     * FF_PRECISION_FP32_WINOGRAD trains exactly as FF_PRECISION_FP32
     * (direct convolutions; a scorer of the trained flow may still use
     * Winograd). Checkpoints of a bf16 run record it: set the same
     * precision before restoring one (FF_E_STATE otherwise). */
    FF_TRAINER_PRECISION = 8,
    /* read-only counters (get only) */
    FF_TRAINER_NUM_IMAGES = 100,        /* i64 images added                    */
    FF_TRAINER_EPOCH = 101,             /* i64 completed epochs                */
    FF_TRAINER_BATCH_IN_EPOCH = 102,    /* i64 batches done in current epoch   */
    FF_TRAINER_BATCHES_PER_EPOCH = 103, /* i64 ceil(images / batch size)       */
    FF_TRAINER_STEPS = 104,             /* i64 optimiser steps so far          */
    FF_TRAINER_FEATURE_BYTES = 105,     /* i64 bytes of cached features        */
    FF_TRAINER_FEATURE_BYTES_SPILLED = 106 /* i64 of those, bytes in the file */
};

/* The trainer starts from a copy of `flow`'s parameters.
 * Usually a fresh ff_flow_create flow; a loaded or snapshot flow continues training, with fresh
 * optimiser state. The trainer holds a reference to the flow and shares its permutations and
 * backbone; flow itself never changes. Adam: betas 0.9/0.999, eps 1e-8, L2 weight decay added to
 * the gradient. Errors: FF_E_OUT_OF_MEMORY, FF_E_INTERNAL. ff_trainer_destroy frees the trainer,
 * its cache and optimiser state and drops its flow reference (snapshots already taken stay
 * valid); NULL is ignored. */
FF_API ff_status ff_trainer_create(const ff_flow *flow, ff_trainer **out);
FF_API void ff_trainer_destroy(ff_trainer *trainer);
/* Settings and counters, enum ff_trainer_param; one type per key (another type or an unknown key
 * is FF_E_INVALID_ARGUMENT). i32: FF_TRAINER_BATCH_SIZE ([1, 4096]; FF_E_STATE in the middle of
 * an epoch), FF_TRAINER_PRECISION (enum ff_precision; FF_E_STATE once a batch has run,
 * FF_E_UNSUPPORTED for FF_PRECISION_BF16 on a CPU without native bf16). i64: FF_TRAINER_SEED (shuffling, any value; FF_E_STATE once a batch has run),
 * FF_TRAINER_CACHE_MEMORY (bytes >= 0; FF_E_STATE once an image was added); the
 * get_i64 getter also reads every read-only counter and, widened, FF_TRAINER_BATCH_SIZE;
 * FF_TRAINER_BATCHES_PER_EPOCH is ceil(images / batch size) over the images of the current epoch
 * when one is under way, else over all images added. f32: FF_TRAINER_LEARNING_RATE ((0, 1]) and
 * FF_TRAINER_WEIGHT_DECAY ([0, 1]), finite only, applied from the next step;
 * FF_TRAINER_EMA_DECAY ([0, 0.999]; FF_E_STATE once a batch has run; FF_E_OUT_OF_MEMORY when
 * the average's buffer cannot be allocated). A rejected value leaves the setting unchanged. */
FF_API ff_status ff_trainer_set_i32(ff_trainer *trainer, int32_t key, int32_t value);
FF_API ff_status ff_trainer_set_i64(ff_trainer *trainer, int32_t key, int64_t value);
FF_API ff_status ff_trainer_set_f32(ff_trainer *trainer, int32_t key, float value);
FF_API ff_status ff_trainer_get_i32(const ff_trainer *trainer, int32_t key, int32_t *value_out);
FF_API ff_status ff_trainer_get_i64(const ff_trainer *trainer, int32_t key, int64_t *value_out);
FF_API ff_status ff_trainer_get_f32(const ff_trainer *trainer, int32_t key, float *value_out);

/* Adds one normal image: it is pre-processed and its backbone features are
 * computed now and cached (memory per image: 4 bytes x the sum over levels
 * of C*H*W; 1792 KiB for resnet18 at 256x256; FF_TRAINER_FEATURE_BYTES).
 * Pixels are read during the call only and pre-processed to the flow's input size, so epochs
 * never run the backbone. Errors: FF_E_STATE (in the middle of an epoch), FF_E_INVALID_ARGUMENT
 * (bad buffer description), FF_E_LIMIT_EXCEEDED (pixel limit; more than 2^31-1 images),
 * FF_E_OUT_OF_MEMORY (the cache cannot grow; it is unchanged), FF_E_INTERNAL.
 * ff_trainer_add_image_file decodes a PNG or JPEG as RGB and adds the errors of
 * ff_image_decode_file (FF_E_IO, FF_E_BAD_FORMAT, FF_E_UNSUPPORTED); the message names the file. */
FF_API ff_status ff_trainer_add_image(ff_trainer *trainer, const uint8_t *pixels, int32_t width,
                                      int32_t height, size_t row_stride, int32_t pixel_format);
FF_API ff_status ff_trainer_add_image_file(ff_trainer *trainer, const char *path);

/* One optimiser step on the next shuffled batch (a new epoch starts, with a
 * new shuffle, when the previous one is exhausted; the last batch of an epoch
 * may be smaller). loss_out (may be NULL) receives the batch loss.
 * FF_E_STATE without images; FF_E_NUMERIC when the loss or a gradient is not
 * finite, in which case parameters and counters are unchanged.
 * The shuffle is drawn from the seeded generator. The batch loss is the sum over levels of the
 * batch mean of 0.5*sum(z^2) - logdet (anomalib's loss). On FF_E_NUMERIC the Adam state is
 * unchanged too; lower the learning rate. Also FF_E_OUT_OF_MEMORY (first batch buffers),
 * FF_E_INTERNAL. */
FF_API ff_status ff_trainer_run_batch(ff_trainer *trainer, float *loss_out);
/* Runs the remaining batches of the current epoch; loss_out (may be NULL)
 * receives the epoch's mean batch loss.
 * A whole epoch when none is under way; the mean is over all the epoch's batches, including any
 * run before by ff_trainer_run_batch. Errors: as ff_trainer_run_batch; on a failure the batches
 * already run in this call have been applied (partial), the failing one has not. */
FF_API ff_status ff_trainer_run_epoch(ff_trainer *trainer, float *loss_out);
/* A trained, immutable snapshot of the current parameters: a new ff_flow
 * (same backbone, options and permutations) that the caller destroys; it
 * stays valid after the trainer is destroyed or trains on.
 * Take one whenever you want to score or save mid-training. With FF_TRAINER_EMA_DECAY > 0 the
 * snapshot is the averaged model (the moving average as of the last completed epoch; before the
 * first epoch completes, the current parameters). Errors: FF_E_OUT_OF_MEMORY. */
FF_API ff_status ff_trainer_snapshot(const ff_trainer *trainer, ff_flow **out);
/* As ff_trainer_snapshot, but always the current trained parameters, also when
 * FF_TRAINER_EMA_DECAY > 0 (for comparing the average with what it averages, or
 * scoring the parameters of a batch in the middle of an epoch). Identical to
 * ff_trainer_snapshot when the average is off. Errors: FF_E_OUT_OF_MEMORY. */
FF_EXPERIMENTAL
FF_API ff_status ff_trainer_snapshot_raw(const ff_trainer *trainer, ff_flow **out);

/* Checkpoints, for resuming a long run: ff_trainer_save_checkpoint writes
 * the trainer's whole state (parameters, Adam's moments and step count,
 * epoch and batch position with the epoch's shuffled order, the shuffling
 * generator, batch size, learning rate, weight decay, seed, the EMA decay
 * and moving average (FF_TRAINER_EMA_DECAY), and
 * fingerprints of the starting flow and of the added images) atomically
 * (temporary file, fsync, rename: an interrupted save leaves the previous
 * file intact). ff_trainer_restore_checkpoint loads one into a trainer
 * created from the same flow with the same images added in the same order
 * (FF_E_STATE, naming both fingerprints, otherwise) and set to the same
 * FF_TRAINER_PRECISION (the file records a bf16 run; FF_E_STATE for the
 * other precision); the other settings are the checkpoint's. Training on from there gives bit for bit the parameters an
 * uninterrupted run gives (same FF_GLOBAL_NUM_THREADS). A corrupt or
 * truncated file is FF_E_BAD_FORMAT (the tensors carry a checksum); on any
 * error the trainer is unchanged. Format: docs/model-format.md. */
FF_API ff_status ff_trainer_save_checkpoint(const ff_trainer *trainer, const char *path);
FF_API ff_status ff_trainer_restore_checkpoint(ff_trainer *trainer, const char *path);

/* ------------------------------------------------------------------------ */
/* Scoring                                                                  */
/* ------------------------------------------------------------------------ */

/* A per-thread working object over a shared flow: its own extractor, flow
 * engine (weights kept in oneDNN's formats since the flow is immutable) and
 * buffers for up to 8 images, reused from call to call. One thread at a
 * time: create one scorer per thread over one shared ff_flow; results are
 * identical whatever the number of threads.
 * The anomaly map of an image is, at the model's input size, the mean over
 * feature levels of the bilinear upsampling (align_corners false) of
 * -exp(-0.5 * mean over channels of z^2): values in [-1, 0], higher = more
 * anomalous (anomalib's AnomalyMapGenerator). The image score is the map's
 * maximum. Maps are float32 row-major [H, W]. */
typedef struct ff_scorer ff_scorer;

/* A new scorer holding a reference to flow; its buffers are allocated now, oneDNN primitives at
 * the first call. Errors: FF_E_OUT_OF_MEMORY, FF_E_INTERNAL. ff_scorer_destroy frees it and
 * drops its flow reference; NULL is ignored. */
FF_API ff_status ff_scorer_create(const ff_flow *flow, ff_scorer **out);
FF_API void ff_scorer_destroy(ff_scorer *scorer);

/* Shape of the anomaly map: the model's input size.
 * Both outputs are required. */
FF_API ff_status ff_scorer_map_shape(const ff_scorer *scorer, int32_t *width_out,
                                     int32_t *height_out);

/* Scores one image: pre-processing, backbone, flows. The anomaly map
 * (values in [-1, 0], higher = more anomalous) goes to map_out
 * (map_height*map_width floats, capacity in floats; NULL = score only), the
 * image score (the map's maximum) to score_out.
 * Pixels are read during the call only; score_out is required. Smoothing and normalisation apply
 * as the scorer options (enum ff_scorer_param) say. Object-exclusive. Errors:
 * FF_E_BUFFER_TOO_SMALL (map capacity), FF_E_INVALID_ARGUMENT (bad pixel buffer description),
 * FF_E_LIMIT_EXCEEDED (pixel limit), FF_E_OUT_OF_MEMORY, FF_E_INTERNAL. ff_scorer_score_file
 * decodes a PNG or JPEG as RGB into a buffer the scorer reuses and adds FF_E_IO,
 * FF_E_BAD_FORMAT, FF_E_UNSUPPORTED; messages name the file. */
FF_API ff_status ff_scorer_score_image(ff_scorer *scorer, const uint8_t *pixels, int32_t width,
                                       int32_t height, size_t row_stride, int32_t pixel_format,
                                       float *map_out, size_t map_capacity, float *score_out);
/* Reads the file once (one open, one read) and decodes it from those
 * bytes. After the first image of a given kind (PNG/JPEG) and size, a
 * scorer scores the next such image without allocating memory: it owns its
 * file buffer, decoded image, pre-processing buffers and filters. */
FF_API ff_status ff_scorer_score_file(ff_scorer *scorer, const char *path, float *map_out,
                                      size_t map_capacity, float *score_out);
/* ff_scorer_score_file for an encoded PNG or JPEG image already in memory
 * (size bytes at data, e.g. from a camera or a network request); the same
 * results for the same bytes. */
FF_API ff_status ff_scorer_score_memory(ff_scorer *scorer, const void *data, size_t size,
                                        float *map_out, size_t map_capacity, float *score_out);
/* Scores a pre-processed batch [batch, 3, H, W] (H, W the model's input
 * size). maps_out receives batch maps back to back (NULL = scores only),
 * scores_out batch scores. Processed in chunks of 8; the outputs are
 * written only after every chunk succeeded, so the scorer keeps a batch's
 * raw maps meanwhile (batch x H x W floats, reused by the next call).
 * maps_capacity >= batch*H*W floats, scores_capacity >= batch; results
 * equal one-by-one scoring. Errors: FF_E_INVALID_ARGUMENT (batch < 1, NaN or
 * Inf in the input, size overflow), FF_E_BUFFER_TOO_SMALL, FF_E_NUMERIC (the
 * flow overflows), FF_E_OUT_OF_MEMORY, FF_E_INTERNAL; every output is
 * untouched after any of them. */
FF_API ff_status ff_scorer_score_tensor(ff_scorer *scorer, const float *input, int32_t batch,
                                        float *maps_out, size_t maps_capacity, float *scores_out,
                                        size_t scores_capacity);

/* Scores count PNG/JPEG files, given as count NUL-terminated paths back to
 * back in paths_bytes bytes ("a.png\0b.jpg\0"; every path ends with its
 * NUL and nothing follows the last), reading and decoding the next files on
 * helper threads (FF_SCORER_DECODE_THREADS) while the network runs on the
 * current batch (FF_SCORER_BATCH); the results equal ff_scorer_score_file's
 * for each file, bit for bit. Maps are at the model's size
 * (ff_scorer_map_shape) whatever FF_SCORER_MAP_SIZE: count maps back to
 * back in maps_out (NULL = scores only); count scores in scores_out; each
 * file's status in statuses_out (FF_OK, or why that file failed, e.g.
 * FF_E_IO, FF_E_BAD_FORMAT). A file that fails leaves its score and map
 * untouched, and the others go on: the call returns FF_OK once it has run,
 * and fails (writing nothing) only on invalid arguments or when its own
 * buffers cannot be allocated. ff_scorer_last_decisions then gives count
 * decisions (0 for failed files). ff_scorer_progress can watch the call
 * from another thread. */
FF_API ff_status ff_scorer_score_files(ff_scorer *scorer, const char *paths, size_t paths_bytes,
                                       size_t count, float *maps_out, size_t maps_capacity,
                                       float *scores_out, int32_t *statuses_out);
/* Progress of the running (or last) ff_scorer_score_files call on this
 * scorer: files done (scored or failed), files in the call, files failed,
 * seconds since it started (until it ended, once it has). The one scorer
 * function that any thread may call at any time, also while another
 * thread runs ff_scorer_score_files; all zero before the first call. Each
 * output may be NULL. */
FF_API ff_status ff_scorer_progress(const ff_scorer *scorer, int64_t *done_out, int64_t *total_out,
                                    int64_t *failed_out, double *elapsed_seconds_out);

/* Scorer options (ff_scorer_set_i32 / _f32). Each takes effect from the
 * next score call; an invalid value is FF_E_INVALID_ARGUMENT and leaves the
 * option unchanged. The pipeline of every score call is: raw anomaly map at
 * the model's input size -> optional Gaussian smoothing -> image score =
 * maximum of that map -> map resized to the requested size -> optional
 * normalisation of map and score. */
enum ff_scorer_param {
    /* i32, enum ff_scorer_map_size, default FF_SCORER_MAP_MODEL_SIZE. With
     * FF_SCORER_MAP_IMAGE_SIZE, ff_scorer_score_image/_file write the map at
     * the input image's own width x height, resized from the model-size map
     * with bilinear interpolation, align_corners = false, no antialiasing
     * (torch.nn.functional.interpolate(mode="bilinear")). The image score
     * does not depend on this option. ff_scorer_score_tensor has no
     * original size: its maps stay at the model's size. */
    FF_SCORER_MAP_SIZE = 1,
    /* f32, default 0 (off; maps bit-identical to anomalib's), [0, 64].
     * Gaussian smoothing of the model-size map before the score is taken,
     * as anomalib's AnomalyMapGenerator (kornia GaussianBlur2d): kernel
     * side 2*int(4*sigma + 0.5) + 1, weights exp(-x^2 / (2 sigma^2))
     * normalised to sum 1, separable, reflect padding (d c b | a b c d |
     * c b a, mirrored again where the kernel is wider than the map). */
    FF_SCORER_SMOOTH_SIGMA = 2,
    /* i32 0/1, default 0. 1: scores and maps are normalised to [0, 1] with
     * 0.5 at the threshold, as anomalib's min-max normalisation:
     *   score' = clamp((score - image_threshold) / (max - min) + 0.5, 0, 1)
     *   map'   = clamp((map   - pixel_threshold) / (max - min) + 0.5, 0, 1)
     * computed in float with the flow's statistics (ff_flow_get_statistic).
     * Setting 1 on a flow without statistics is FF_E_STATE. */
    FF_SCORER_NORMALIZED = 3,
    /* i32, default 0 = FF_GLOBAL_NUM_THREADS, [0, 1024]: threads of this
     * scorer's calls. Maps and scores are identical for equal thread
     * counts, whether set here or globally. */
    FF_SCORER_NUM_THREADS = 4,
    /* i32, enum ff_precision, default FF_PRECISION_FP32. FF_PRECISION_BF16
     * on a CPU without native bf16 is FF_E_UNSUPPORTED. Changing it
     * rebuilds the scorer's primitives at the next score call. */
    FF_SCORER_PRECISION = 5,
    /* i32 in [1, 8], default 4. Images ff_scorer_score_files runs through
     * the network at once. */
    FF_SCORER_BATCH = 6,
    /* i32 in [0, 16], default 1. Threads ff_scorer_score_files reads,
     * decodes and pre-processes files on while the calling thread runs the
     * network; 0: all on the calling thread, one batch after the other. */
    FF_SCORER_DECODE_THREADS = 7
};
/* Values of FF_SCORER_MAP_SIZE. */
enum ff_scorer_map_size {
    FF_SCORER_MAP_MODEL_SIZE = 0, /* the model's input size (ff_scorer_map_shape) */
    FF_SCORER_MAP_IMAGE_SIZE = 1  /* the scored image's own size */
};
/* Set and read scorer options (enum ff_scorer_param); one thread at a time. i32:
 * FF_SCORER_MAP_SIZE (enum ff_scorer_map_size), FF_SCORER_NORMALIZED (0/1) and
 * FF_SCORER_PRECISION (enum ff_precision); f32: FF_SCORER_SMOOTH_SIGMA ([0, 64], 0 = off).
 * Errors: FF_E_INVALID_ARGUMENT (unknown key, wrong type, value out of range: the option is
 * unchanged), FF_E_STATE (FF_SCORER_NORMALIZED 1 on a flow without statistics, see
 * ff_flow_get_statistic), FF_E_UNSUPPORTED (FF_PRECISION_BF16 on a CPU without native bf16; the
 * message names oneDNN's instruction set). With every option at its default the results are
 * anomalib's, bit for bit. */
FF_API ff_status ff_scorer_set_i32(ff_scorer *scorer, int32_t key, int32_t value);
FF_API ff_status ff_scorer_set_f32(ff_scorer *scorer, int32_t key, float value);
FF_API ff_status ff_scorer_get_i32(const ff_scorer *scorer, int32_t key, int32_t *value_out);
FF_API ff_status ff_scorer_get_f32(const ff_scorer *scorer, int32_t key, float *value_out);

/* Shape of the map that ff_scorer_score_image/_file write for an image of
 * image_width x image_height under the current FF_SCORER_MAP_SIZE: the
 * model's input size, or the image's size. Sides >= 1, width * height
 * within FF_GLOBAL_MAX_IMAGE_PIXELS.
 * Use it with ff_image_probe_file to size the buffer. Errors: FF_E_INVALID_ARGUMENT (a side <
 * 1), FF_E_LIMIT_EXCEEDED (above the pixel limit). ff_scorer_score_tensor always writes
 * model-size maps. */
FF_API ff_status ff_scorer_map_shape_for(const ff_scorer *scorer, int32_t image_width,
                                         int32_t image_height, int32_t *width_out,
                                         int32_t *height_out);

/* The yes/no decisions of the last score call (1 for
 * ff_scorer_score_image/_file, batch for ff_scorer_score_tensor): 1 when
 * the image's raw score (smoothed if FF_SCORER_SMOOTH_SIGMA is set) is >=
 * the flow's image threshold, else 0; equivalently, a normalised score >=
 * 0.5. They do not depend on FF_SCORER_NORMALIZED. FF_E_STATE when the flow
 * has no statistics, or when the last score call failed or none was made
 * (a failed call never leaves the previous call's decisions readable);
 * FF_E_BUFFER_TOO_SMALL when capacity is below the last call's count.
 * capacity counts int32_t. */
FF_API ff_status ff_scorer_last_decisions(const ff_scorer *scorer, int32_t *decisions_out,
                                          size_t capacity);

/* Score statistics: thresholds and the normalisation range, in raw
 * anomaly-map units (the units of an un-normalised ff_scorer). Typical use:
 * train, score held-out normal (or labelled validation) images with an
 * un-normalised scorer, ff_score_statistics, ff_flow_with_statistics,
 * ff_flow_save. A normalising scorer maps them with anomalib's min-max rule
 * (FF_SCORER_NORMALIZED), so 0.5 is the threshold. */
enum ff_stat {
    FF_STAT_IMAGE_THRESHOLD = 1, /* an image is anomalous when its score >= this */
    FF_STAT_PIXEL_THRESHOLD = 2, /* a pixel is anomalous when its value >= this */
    FF_STAT_MIN = 3,             /* smallest map value or score on validation   */
    FF_STAT_MAX = 4              /* largest map value or score on validation    */
};

/* Computes score statistics from a scored validation set: num_images maps
 * of width x height (back to back, model size, as ff_scorer_score_* wrote
 * them un-normalised) and their scores. Any thread; no shared state.
 *  - labels NULL (or no 1 among them): normal images only. Both thresholds
 *    are the largest score (what anomalib's F1AdaptiveThreshold falls back
 *    to without anomalous samples): every held-out normal image scores at
 *    most the threshold, and scores above it are more anomalous than any
 *    normal image seen.
 *  - labels with anomalous images (0/1 per image): the image threshold is
 *    the F1-optimal one (ff_metric_f1_optimal) as anomalib computes it; the
 *    pixel threshold the F1-optimal one over every pixel with masks
 *    (num_images * height * width bytes, 0/1; needs labels) as labels, or
 *    the image threshold when masks is NULL or holds no 1 (anomalib's
 *    fallback).
 *  - min / max: the smallest / largest of every map value and score.
 * NaN or infinite values, labels or masks other than 0/1, or max == min
 * are FF_E_INVALID_ARGUMENT. Outputs may not be NULL.
 * Also FF_E_OUT_OF_MEMORY. */
FF_API ff_status ff_score_statistics(const float *maps, const float *scores, const uint8_t *labels,
                                     const uint8_t *masks, int32_t num_images, int32_t width,
                                     int32_t height, float *image_threshold_out,
                                     float *pixel_threshold_out, float *min_out, float *max_out);

/* A new flow equal to `flow` (same backbone, options and parameters) that
 * carries the given statistics; ff_flow_save stores them in the model
 * file's metadata (docs/model-format.md). All four finite, max > min.
 * source: a short label of how they were computed (printable ASCII,
 * at most 31 characters; NULL = "user"), saved as score.source.
 * flow is unchanged (flows are immutable); the new one is the caller's to destroy. Any thread.
 * Errors: FF_E_INVALID_ARGUMENT, FF_E_OUT_OF_MEMORY. */
FF_API ff_status ff_flow_with_statistics(const ff_flow *flow, float image_threshold,
                                         float pixel_threshold, float min, float max,
                                         const char *source, ff_flow **out);
/* Reads one statistic (FF_STAT_* key). FF_E_STATE when the flow has none:
 * a fresh or freshly trained flow, or a file without score.* (or
 * anomalib.*) metadata. Any thread.
 * FF_E_INVALID_ARGUMENT for an unknown key. */
FF_API ff_status ff_flow_get_statistic(const ff_flow *flow, int32_t key, float *value_out);

/* A new flow equal to `flow` (parameters, statistics) that carries `text`
 * as its training record: how it was trained, by convention one JSON
 * object (`fastflow train --epochs auto` writes the stopping criterion,
 * the chosen epoch and the criterion's value after every epoch).
 * ff_flow_save stores it in the model file's "training" metadata and
 * ff_flow_load reads it back; ff_flow_with_statistics keeps it. Printable
 * ASCII, 1 to 65536 bytes; NULL = no record. Any thread. */
FF_API ff_status ff_flow_with_training_record(const ff_flow *flow, const char *text, ff_flow **out);
/* Copies the training record with its NUL into buffer (capacity bytes);
 * length_out (may be NULL) receives its length without the NUL, also on
 * FF_E_BUFFER_TOO_SMALL. FF_E_STATE when the flow has none. Any thread. */
FF_API ff_status ff_flow_get_training_record(const ff_flow *flow, char *buffer, size_t capacity,
                                             size_t *length_out);

/* ------------------------------------------------------------------------ */
/* Choosing the epoch (experimental)                                        */
/* ------------------------------------------------------------------------ */

/* An ff_selector chooses when to stop training on held-out data, as
 * `fastflow train --epochs auto` does (it drives one): the caller runs the
 * epochs (ff_trainer_run_epoch) and calls ff_selector_update after each;
 * the selector scores its selection set with the trainer's flow
 * (ff_trainer_snapshot: the moving average with FF_TRAINER_EMA_DECAY),
 * turns the result into one number by its criterion, keeps the flow of the
 * best epoch and says when `patience` epochs brought no improvement (or
 * max_epochs were scored). ff_selector_best returns the kept flow with a
 * training record (ff_flow_get_training_record): {"method":"epochs-auto",
 * "criterion", "higher_is_better", "selection_set", "max_epochs",
 * "patience", ["ema_decay",] "epochs_run", "chosen_epoch", "curve": the
 * criterion after every epoch}.
 * The selection set is either held-out normal images (the training never
 * sees them; the selector adds two synthetic anomalies per image, drawn
 * from the seed: CutPaste, noise patch, scratch, spot, with their masks) or
 * labelled images (good and defect, masks optional), never both. It is
 * pre-processed at the flow's input size when added (3 x width x height
 * floats an image) and fixed at the first update. One thread at a time per
 * selector (FF_E_STATE for a call overlapping another). */
typedef struct ff_selector ff_selector;

/* Criteria, computed on the selection set's raw maps and scores. */
enum ff_select_criterion {
    FF_SELECT_NORMAL_SPREAD = 0, /* population std. dev. of the normal images' scores; lower is better */
    FF_SELECT_NORMAL_MEAN = 1,   /* mean of the normal images' map values; lower is better */
    FF_SELECT_IMAGE_AUROC = 2,   /* image AUROC, normal vs anomalous images; higher is better */
    FF_SELECT_PIXEL_AUROC = 3,   /* pixel AUROC, masks as labels; higher is better */
    FF_SELECT_MEAN_AUROC = 4     /* (image AUROC + pixel AUROC) / 2; higher is better */
};

/* "normal-spread", "normal-mean", "image-auroc", "pixel-auroc",
 * "mean-auroc" (static); NULL for an unknown value. Any thread. */
FF_EXPERIMENTAL
FF_API const char *ff_select_criterion_name(int32_t criterion);
/* The FF_SELECT_* value named `name`; FF_E_INVALID_ARGUMENT for an unknown
 * name. Any thread. */
FF_EXPERIMENTAL
FF_API ff_status ff_select_criterion_from_name(const char *name, int32_t *criterion_out);

/* Which of num_images training images to hold out for selecting the epoch,
 * as `fastflow train --epochs auto --seed SEED` does: round(num_images / 10)
 * clamped to [2, 16] and below num_images, drawn by seed, in increasing
 * order into indices_out (capacity entries; 16 always suffice). count_out
 * receives the count, also on FF_E_BUFFER_TOO_SMALL. FF_E_INVALID_ARGUMENT
 * for fewer than 3 images. Any thread. */
FF_EXPERIMENTAL
FF_API ff_status ff_select_held_out(uint64_t num_images, int64_t seed, uint64_t *indices_out, uint64_t capacity,
                                    uint64_t *count_out);

/* A selector for trainers of flows with `flow`'s input size (the flow is
 * only read here). criterion: an FF_SELECT_* value; max_epochs and
 * patience in [1, 1000000]; seed draws the synthetic anomalies (the CLI
 * passes --seed). FF_E_OUT_OF_MEMORY. */
FF_EXPERIMENTAL
FF_API ff_status ff_selector_create(const ff_flow *flow, int32_t criterion, int32_t max_epochs, int32_t patience,
                                    int64_t seed, ff_selector **out);
FF_EXPERIMENTAL
FF_API void ff_selector_destroy(ff_selector *selector);

/* Adds a held-out normal image (pixels as for ff_image_preprocess); its
 * synthetic anomalies are made at the first update, CutPaste patches taken
 * from the next image added. FF_E_STATE after the first update or in a
 * selector holding labelled images; the pre-processing's errors. */
FF_EXPERIMENTAL
FF_API ff_status ff_selector_add_normal_image(ff_selector *selector, const uint8_t *pixels, int32_t width,
                                              int32_t height, size_t row_stride, int32_t pixel_format);
/* Adds a labelled image: is_anomalous 0 (good) or 1 (defect); mask (may be
 * NULL: all pixels normal) is a GRAY8 ground truth of mask_width x
 * mask_height, rows mask_row_stride bytes apart (0 = packed), non-zero on
 * the defect, resized to the flow's input size with nearest neighbour. The
 * pixel criteria need at least one mask in the set. FF_E_STATE after the
 * first update or in a selector holding normal images. */
FF_EXPERIMENTAL
FF_API ff_status ff_selector_add_labelled_image(ff_selector *selector, const uint8_t *pixels, int32_t width,
                                                int32_t height, size_t row_stride, int32_t pixel_format,
                                                int32_t is_anomalous, const uint8_t *mask, int32_t mask_width,
                                                int32_t mask_height, size_t mask_row_stride);
/* Scores the trainer's current flow (the next epoch, counted from 1) on the
 * selection set. value_out: the criterion; improved_out: 1 when it is
 * strictly better than every earlier epoch's (the flow is then kept);
 * stop_out: 1 when the last `patience` epochs brought no improvement or
 * max_epochs epochs were scored. Each output may be NULL. Errors:
 * FF_E_STATE with no image, after max_epochs updates, or when the criterion
 * cannot be computed on the set (an AUROC without anomalous images, a pixel
 * criterion without masks); FF_E_INVALID_ARGUMENT for a trainer of another
 * input size; the scorer's errors. The selector is unchanged on error. */
FF_EXPERIMENTAL
FF_API ff_status ff_selector_update(ff_selector *selector, const ff_trainer *trainer, double *value_out,
                                    int32_t *improved_out, int32_t *stop_out);
/* A new flow holding the best epoch's parameters (equal to a snapshot
 * taken after that epoch) with the training record described above;
 * epoch_out (may be NULL) receives that epoch. FF_E_STATE before the first
 * update. The caller destroys the flow. */
FF_EXPERIMENTAL
FF_API ff_status ff_selector_best(const ff_selector *selector, ff_flow **out, int32_t *epoch_out);

/* ------------------------------------------------------------------------ */
/* Evaluation metrics                                                       */
/* ------------------------------------------------------------------------ */

/* Ranking metrics of the MVTec AD protocol, exact and O(n log n) (one radix
 * sort of the scores). Higher scores mean "more anomalous". Labels and mask
 * pixels are uint8_t 0 (normal) or 1 (anomalous); any other value, a NaN or
 * infinite score, n == 0 or more than 2^32-1 values is FF_E_INVALID_ARGUMENT.
 * Results are computed in double. Inputs are read during the call only.
 * Any thread; no shared state. FF_E_OUT_OF_MEMORY when the sort buffers
 * cannot be allocated. */

/* Area under the ROC curve, equal to sklearn.metrics.roc_auc_score: tied
 * scores form one threshold (the trapezoid over distinct thresholds, which
 * is the Mann-Whitney U statistic with average ranks). Needs both classes
 * (FF_E_INVALID_ARGUMENT otherwise). Image AUROC: one score per image;
 * pixel AUROC: every pixel of every map, masks as labels. */
FF_API ff_status ff_metric_auroc(const float *scores, const uint8_t *labels, uint64_t n,
                                 double *auroc_out);

/* Area under the per-region-overlap curve (AUPRO) as the official MVTec AD
 * evaluation code computes it: the ground-truth regions are the
 * 8-connected components of each mask (scipy.ndimage.label with a 3x3
 * structure of ones); at each distinct threshold t (pixels with score >= t
 * are positive) PRO is the mean over all regions of all images of the
 * fraction of the region's pixels that are positive, and FPR the fraction
 * of all normal pixels that are positive. The curve (0,0), points, (1,1) is
 * integrated with the trapezoid rule up to FPR max_fpr (linearly
 * interpolated at the cut-off) and divided by max_fpr. maps and masks hold
 * num_images images of width x height, back to back. max_fpr in (0, 1];
 * the protocol uses 0.3. Needs at least one anomalous region and one normal
 * pixel. */
FF_API ff_status ff_metric_pro(const float *maps, const uint8_t *masks, int32_t num_images,
                               int32_t width, int32_t height, double max_fpr, double *aupro_out);

/* The best F1 score over all thresholds and the threshold reaching it, as
 * anomalib's F1AdaptiveThreshold: the precision-recall curve of
 * sklearn.metrics.precision_recall_curve (a sample is predicted anomalous
 * when score >= threshold; the thresholds are the distinct scores), and the
 * score at its maximum F1 = 2PR/(P+R). On ties the lowest threshold wins
 * (argmax over increasing thresholds). Needs at least one anomalous sample;
 * normal ones may be absent. Either output pointer may be NULL. */
FF_API ff_status ff_metric_f1_optimal(const float *scores, const uint8_t *labels, uint64_t n,
                                      double *f1_out, float *threshold_out);

/* ------------------------------------------------------------------------ */
/* Heatmaps                                                                 */
/* ------------------------------------------------------------------------ */

/* Renders an anomaly map as an RGB8 heatmap of the map's own size, ready for
 * ff_image_write_png. Any thread.
 *  - map: width x height floats, row-major (e.g. from ff_scorer_score_*);
 *    NaN anywhere is an invalid argument.
 *  - Colour: t = (v - lo) / (hi - lo) clamped to [0, 1] (+-infinity clamp
 *    too), rounded to one of 256 levels (round(255 t)) of the Turbo colormap
 *    (Google's perceptual rainbow, from its published polynomial: near-black
 *    blue at lo, blue, cyan, green, yellow, red, dark red at hi). lo < hi,
 *    both finite. Use one lo/hi for a whole data set so colours compare
 *    across images.
 *  - image (NULL = colormap only; image_stride 0 = packed): the input
 *    picture in any pixel format and size; when its size differs from the
 *    map's it is resized to the map's size (antialiased bilinear, like the
 *    model's pre-processing).
 *    Each output channel is (1 - alpha) * image + alpha * colour, rounded;
 *    alpha in [0, 1]. To overlay at the picture's own resolution, pass a
 *    map at that resolution.
 *  - out_rgb: rows out_stride bytes apart (0 = packed, width * 3);
 *    out_capacity bytes >= (height - 1) * stride + width * 3.
 * Errors: FF_E_INVALID_ARGUMENT (NaN in the map, bad lo/hi/alpha, bad image description),
 * FF_E_BUFFER_TOO_SMALL, FF_E_LIMIT_EXCEEDED (above the pixel limit), FF_E_OUT_OF_MEMORY. */
FF_EXPERIMENTAL
FF_API ff_status ff_heatmap_render(const float *map, int32_t width, int32_t height, float lo, float hi,
                                   const uint8_t *image, int32_t image_width, int32_t image_height,
                                   size_t image_stride, int32_t image_format, float alpha,
                                   uint8_t *out_rgb, size_t out_capacity, size_t out_stride);

/* Draws the contour of a ground-truth mask over an RGB8 picture in place
 * (typically a heatmap from ff_heatmap_render). Any thread.
 *  - mask: GRAY8, non-zero = defect, any size; resized nearest-neighbour to
 *    the picture's size when the sizes differ (as the evaluation protocol
 *    resizes masks).
 *  - The contour is 2 pixels wide: every defect pixel with a non-defect
 *    8-neighbour and every non-defect pixel with a defect 8-neighbour (the
 *    picture's border is not a contour). Those pixels are set to
 *    color_rgb = 0xRRGGBB (e.g. 0xFFFFFF, white).
 *  - rgb: width x height RGB8, rows rgb_stride bytes apart (0 = packed),
 *    rgb_capacity bytes. A mask without defect pixels draws nothing.
 * Errors: FF_E_INVALID_ARGUMENT (a colour above 0xFFFFFF, bad sizes or strides),
 * FF_E_BUFFER_TOO_SMALL, FF_E_OUT_OF_MEMORY. */
FF_EXPERIMENTAL
FF_API ff_status ff_heatmap_draw_contour(const uint8_t *mask, int32_t mask_width, int32_t mask_height,
                                         size_t mask_stride, uint32_t color_rgb, uint8_t *rgb,
                                         int32_t width, int32_t height, size_t rgb_capacity,
                                         size_t rgb_stride);

#ifdef __cplusplus
}
#endif
#endif /* FASTFLOW_H */
