/* Helpers shared by the tests that run the fastflow subcommands in
 * process: stdout capture, file slurping, a JSON number reader, and a tiny
 * MVTec AD category built from ft_image's synthetic pictures. */
#ifndef FF_TESTS_CLI_TESTLIB_H
#define FF_TESTS_CLI_TESTLIB_H

#include <stdint.h>

/* Runs `cmd` (a ff_cmd_* subcommand) after flushing stdout (so that its
 * output follows the test's own); returns its exit code. */
int ct_run(int (*cmd)(int, char **), int argc, const char **argv);

/* Runs `cmd` (a ff_cmd_* subcommand) with stdout redirected to `path`;
 * returns its exit code, -1 when stdout could not be redirected. */
int ct_run_to(const char *path, int (*cmd)(int, char **), int argc, const char **argv);

/* The whole file as a NUL-terminated string (free with free()); NULL on failure. */
char *ct_slurp(const char *path);

/* The number after "key": in a JSON text; NAN when absent or null. */
double ct_json_number(const char *json, const char *key);

/* Writes seeded random resnet18 weights (backbone_testlib) to `path` as a
 * safetensors file, for `--weights`. 0 on success. */
int ct_write_resnet18_weights(const char *path, uint64_t seed);

/* Creates an MVTec AD category at `root` (which must not exist) of
 * side x side RGB images: train/good/n<i>.png (n_train), test/good/g<i>.png
 * (n_good), test/spot/s<i>.png with a bright square (n_defect) and
 * ground_truth/spot/s<i>_mask.png. Seeds 800+i, 900+i, 910+i. 0 on success. */
int ct_mvtec_set(const char *root, int32_t side, int n_train, int n_good, int n_defect);

#endif
