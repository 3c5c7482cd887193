/* Non-regular files given where a file is read (issue 12 item 2): a FIFO
 * named as an image, a model or backbone weights used to block forever in
 * open() waiting for a writer. Every reader must refuse it at once with
 * FF_E_IO naming the path and saying it is a FIFO. An alarm turns a hang
 * into a failure (the suite's timeout would too, more slowly). A character
 * device (/dev/null, /dev/zero) and a folder are refused the same way. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flow_testlib.h"
#include "test_util.h"

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_special_files: a reader blocked on a non-regular file\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

static void check_refused(ff_status st, const char *kind) {
    CHECK(st == FF_E_IO);
    CHECK_MSG("not a regular file");
    CHECK_MSG(kind);
}

static void test_path(const char *path, const char *kind, const ff_flow *flow, const ff_backbone *bb) {
    alarm(20);
    int32_t w = -1, h = -1, ch = -1;
    check_refused(ff_image_probe_file(path, &w, &h, &ch), kind);
    CHECK(w == -1 && h == -1 && ch == -1);
    uint8_t px[16];
    memset(px, 0xA5, sizeof px);
    check_refused(ff_image_decode_file(path, FF_PIXEL_RGB8, px, sizeof px, 0), kind);
    CHECK(px[0] == 0xA5);
    ff_flow *f = NULL;
    check_refused(ff_flow_load(path, NULL, &f), kind);
    check_refused(ff_flow_load(path, bb, &f), kind);
    CHECK(f == NULL);
    ff_backbone *b = NULL;
    check_refused(ff_backbone_load("resnet18", path, &b), kind);
    CHECK(b == NULL);
    ff_scorer *s = NULL;
    CHECK_OK(ff_scorer_create(flow, &s));
    float score = 7.0f, map[64 * 64];
    check_refused(ff_scorer_score_file(s, path, NULL, 0, &score), kind);
    check_refused(ff_scorer_score_file(s, path, map, 64 * 64, &score), kind);
    CHECK(score == 7.0f);
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, FF_SCORER_MAP_IMAGE_SIZE));
    check_refused(ff_scorer_score_file(s, path, map, 64 * 64, &score), kind);
    ff_scorer_destroy(s);
    ff_trainer *t = NULL;
    CHECK_OK(ff_trainer_create(flow, &t));
    check_refused(ff_trainer_add_image_file(t, path), kind);
    ff_trainer_destroy(t);
    alarm(0);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    ff_backbone *bb = ft_backbone(5);
    ff_flow *flow = bb ? ft_flow(bb, 64, 1, 1, 0) : NULL;
    CHECK(flow != NULL);
    if (!flow) return ff_test_finish();
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/pipe.png", ff_test_tmpdir());
    CHECK(mkfifo(fifo, 0600) == 0);
    test_path(fifo, "FIFO", flow, bb);
    test_path("/dev/null", "device", flow, bb);
    test_path(ff_test_tmpdir(), "directory", flow, bb);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
