/* Helpers shared by the anomalib import tests: the golden reference
 * (tools/reference/make_anomalib_ckpt.py), its backbone regenerated in C,
 * map comparison through the public scorer, and running the converter. */
#ifndef FF_TESTS_ANOMALIB_TESTLIB_H
#define FF_TESTS_ANOMALIB_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

#define AT_REF "anomalib_resnet18_ref.safetensors"     /* images, PyTorch maps */
#define AT_MODEL "anomalib_resnet18_model.safetensors" /* converter output, no backbone */

/* The reference's resnet18 (seed from the golden's metadata), after checking
 * the generator against the golden's check.first / check.last. NULL on failure. */
ff_backbone *at_backbone(void);
/* That seed (0 when the golden file is unreadable). */
unsigned long long at_backbone_seed(void);

/* Scores the golden images with `flow` and compares maps and scores with the
 * PyTorch reference (max abs error <= 1e-4 x max|ref|); counts as checks. */
void at_check_maps(const ff_flow *flow, const char *what);
/* The same with the scorer at FF_SCORER_PRECISION `precision` and a
 * tolerance `tol` (max abs error / max|ref|); maps_out (may be NULL)
 * receives the maps (malloc'd, free it; NULL on failure). */
void at_check_maps_at(const ff_flow *flow, const char *what, int32_t precision, double tol, float **maps_out);

/* The Python that runs the converter: $FF_PYTHON, else /usr/bin/python3. */
const char *at_python(void);
/* Whether at_python() can `import <modules>` ("numpy" or "torch, torchvision"). */
int at_python_has(const char *module);
/* Runs "<python> <source>/tools/anomalib_to_fastflow.py <args>" with stderr
 * captured into out (NUL-terminated); returns the exit status (-1: could not run). */
int at_convert(const char *args, char *out, size_t cap);
/* Runs an arbitrary shell command the same way. */
int at_run(const char *cmd, char *out, size_t cap);

#endif
