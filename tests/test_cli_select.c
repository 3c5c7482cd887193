/* `fastflow train` on a tiny synthetic MVTec-layout set (random resnet18
 * weights, 64x64, 1 flow step):
 *  - --epochs auto: the chosen epoch is the criterion's best on the curve
 *    in the model's training record, the run stops once the patience ran
 *    out, the saved parameters equal a fixed run of the chosen epoch count
 *    (the kept parameters), the record and the log say what was done; with
 *    held-out images the split and synthetic set are reported;
 *  - --checkpoint-every / --resume: a run resumed from its checkpoint (one
 *    left by a process killed with SIGKILL, too) writes a model identical
 *    to the uninterrupted run's; other data or options are refused;
 *  - --ema: bounds, the model written is the moving average (the parameters
 *    after one epoch, not them after more), recorded in the training
 *    record; --epochs auto keeps the average of the chosen epoch; a resumed
 *    --ema run equals the uninterrupted one;
 *  - --precision bf16 (where the CPU has it): the training record says so,
 *    for fixed and automatic epoch counts, and a resume in fp32 is refused
 *    with a message naming --precision. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tools/fastflow/commands.h"
#include "cli_testlib.h"
#include "flow/flow_internal.h"
#include "test_util.h"

static char weights[600], data[600], other[600], tmp[600];

static const char *path(const char *name) {
    static char buf[8][700];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", ff_test_tmpdir(), name);
    return buf[k];
}

/* fastflow train on `dir` with extra options; returns the exit code, stdout in `log`. */
static int train(const char *dir, const char *out, const char *log, int n_extra, const char **extra) {
    const char *argv[40] = {"train", "--data", dir, "--backbone", "resnet18", "--weights", weights,
                            "--batch", "3", "--flow-steps", "1", "--size", "64", "--seed", "3",
                            "--threads", "2", "--out", out};
    int argc = 19;
    for (int i = 0; i < n_extra; i++) argv[argc++] = extra[i];
    return ct_run_to(log, ff_cmd_train, argc, argv);
}

static ff_flow *load(const char *p) {
    ff_flow *f = NULL;
    CHECK_OK(ff_flow_load(p, NULL, &f));
    return f;
}

static int same_params(const ff_flow *a, const ff_flow *b) {
    return a && b && a->layout.num_params == b->layout.num_params &&
           memcmp(a->params, b->params, a->layout.num_params * sizeof(float)) == 0;
}

/* The integer after "key": in the (compact) record; -1 when absent. */
static int num(const char *rec, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(rec, pat);
    return p ? atoi(p + strlen(pat)) : -1;
}

/* Parses the record's chosen epoch, epochs run, patience, max and curve. */
static int parse_record(const char *rec, int *chosen, int *run, int *patience, int *max, double *curve, int cap) {
    *chosen = num(rec, "chosen_epoch");
    *run = num(rec, "epochs_run");
    *patience = num(rec, "patience");
    *max = num(rec, "max_epochs");
    const char *c = strstr(rec, "\"curve\":[");
    if (!c) return -1;
    c += 9;
    int n = 0;
    while (*c && *c != ']' && n < cap) {
        char *end = NULL;
        curve[n++] = strtod(c, &end);
        c = *end == ',' ? end + 1 : end;
    }
    return n;
}

static void test_auto(const char *criterion, int higher, int max_epochs, int with_val) {
    char out[700], log[700], fixed[700];
    snprintf(out, sizeof out, "%s", path("auto.safetensors"));
    snprintf(log, sizeof log, "%s", path("auto.log"));
    snprintf(fixed, sizeof fixed, "%s", path("fixed.safetensors"));
    char maxs[16];
    snprintf(maxs, sizeof maxs, "%d", max_epochs);
    const char *opt[] = {"--epochs", "auto", "--max-epochs", maxs, "--patience", "1", "--select", criterion,
                         "--val", data};
    CHECK(train(data, out, log, with_val ? 10 : 8, opt) == 0);
    char *text = ct_slurp(log);
    ff_flow *flow = load(out);
    char rec[4096] = "";
    if (flow) CHECK_OK(ff_flow_get_training_record(flow, rec, sizeof rec, NULL));
    int chosen = 0, run = 0, patience = 0, max = 0;
    double curve[64];
    int n = parse_record(rec, &chosen, &run, &patience, &max, curve, 64);
    printf("--select %s%s: %s\n", criterion, with_val ? " --val" : "", rec);
    CHECK(strstr(rec, "\"method\":\"epochs-auto\"") && strstr(rec, criterion));
    CHECK(n == run && run >= 1 && run <= max_epochs && max == max_epochs && patience == 1);
    /* the chosen epoch is the best of the curve (the first one on ties) */
    int best = 1;
    for (int e = 2; e <= n; e++)
        if (higher ? curve[e - 1] > curve[best - 1] : curve[e - 1] < curve[best - 1]) best = e;
    CHECK(chosen == best);
    /* it stopped exactly when the patience ran out, or at the maximum */
    CHECK(run == max_epochs || run == chosen + patience);
    for (int e = chosen + 1; e < run; e++) CHECK(!(higher ? curve[e - 1] > curve[chosen - 1] : curve[e - 1] < curve[chosen - 1]));
    CHECK(text && strstr(text, "chose epoch") && strstr(text, "training record: {\"method\":\"epochs-auto\""));
    if (with_val) {
        CHECK(text && strstr(text, "labelled images (3 good, 3 defect)"));
        /* all training images were used: the kept parameters are a fixed run's of the chosen length */
        char ep[16];
        snprintf(ep, sizeof ep, "%d", chosen);
        const char *fx[] = {"--epochs", ep};
        CHECK(train(data, fixed, path("fixed.log"), 2, fx) == 0);
        ff_flow *ref = load(fixed);
        CHECK(same_params(flow, ref));
        ff_flow_destroy(ref);
    } else {
        CHECK(text && strstr(text, "holding out 2 of 12 training images (drawn by seed 3)") &&
              strstr(text, "2 held-out normal training images + 4 synthetic anomalies"));
    }
    free(text);
    ff_flow_destroy(flow);
}

/* Whether the log file at `log` holds `a` and, unless NULL, `b`; prints
 * the log when it does not, so that a failed check shows what was said. */
static int log_has(const char *log, const char *a, const char *b) {
    char *text = ct_slurp(log);
    int ok = text && strstr(text, a) && (!b || strstr(text, b));
    if (!ok) printf("%s lacks '%s'%s%s%s:\n%s\n", log, a, b ? " or '" : "", b ? b : "", b ? "'" : "",
                    text ? text : "(no log)");
    free(text);
    return ok;
}

static void test_resume(void) {
    char full[700], part[700], resumed[700], ck[700];
    snprintf(full, sizeof full, "%s", path("full.safetensors"));
    snprintf(part, sizeof part, "%s", path("part.safetensors"));
    snprintf(resumed, sizeof resumed, "%s", path("resumed.safetensors"));
    snprintf(ck, sizeof ck, "%s", path("run.ckpt"));
    const char *three[] = {"--epochs", "3"};
    CHECK(train(data, full, path("full.log"), 2, three) == 0);
    /* a 2-epoch run leaves its checkpoint after epoch 1; resume it to 3 epochs */
    const char *two[] = {"--epochs", "2", "--checkpoint-every", "1", "--checkpoint", ck};
    CHECK(train(data, part, path("part.log"), 6, two) == 0);
    CHECK(log_has(path("part.log"), "checkpoint after epoch 1", NULL));
    const char *res[] = {"--epochs", "3", "--resume", ck};
    CHECK(train(data, resumed, path("resumed.log"), 4, res) == 0);
    char *text = ct_slurp(path("resumed.log"));
    CHECK(text && strstr(text, "resuming after epoch 1") && strstr(text, "epoch 3/3") && !strstr(text, "epoch 1/3"));
    free(text);
    ff_flow *a = load(full), *b = load(resumed);
    CHECK(same_params(a, b));
    ff_flow_destroy(b);

    /* killed with SIGKILL once a checkpoint exists (the default path: --out + .ckpt) */
    char killed[700], killed_ck[720];
    snprintf(killed, sizeof killed, "%s", path("killed.safetensors"));
    snprintf(killed_ck, sizeof killed_ck, "%s.ckpt", killed);
    /* the fastflow command itself (a forked copy of this process could hang in OpenMP) */
    char exe[1024], cli[1100];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    snprintf(cli, sizeof cli, "%s/../tools/fastflow/fastflow", exe);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout)) _exit(127);
        execl(cli, cli, "train", "--data", data, "--backbone", "resnet18", "--weights", weights, "--batch", "3",
              "--flow-steps", "1", "--size", "64", "--seed", "3", "--threads", "2", "--out", killed, "--epochs", "3",
              "--checkpoint-every", "1", (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    struct stat sb;
    int waited = 0, status = 0;
    while (stat(killed_ck, &sb) != 0 && waitpid(pid, &status, WNOHANG) == 0 && waited < 600000) {
        struct timespec d = {0, 1000000L};
        nanosleep(&d, NULL);
        waited++;
    }
    CHECK(stat(killed_ck, &sb) == 0);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    const char *res2[] = {"--epochs", "3", "--resume", killed_ck};
    CHECK(train(data, resumed, path("resumed2.log"), 4, res2) == 0);
    b = load(resumed);
    CHECK(same_params(a, b));
    printf("resumed from the checkpoint of a run killed with SIGKILL: %s\n", same_params(a, b) ? "identical" : "DIFFERENT");
    ff_flow_destroy(b);
    ff_flow_destroy(a);

    /* other data, other options: refused with what to do */
    CHECK(train(other, resumed, path("bad.log"), 4, res) == 1);
    const char *lr[] = {"--epochs", "3", "--resume", ck, "--lr", "0.01"};
    CHECK(train(data, resumed, path("bad.log"), 6, lr) == 1);
    const char *mix[] = {"--epochs", "auto", "--resume", ck};
    CHECK(train(data, resumed, path("bad.log"), 4, mix) == 2);
    const char *lone[] = {"--epochs", "2", "--checkpoint", ck};
    CHECK(train(data, resumed, path("bad.log"), 4, lone) == 2);
}

/* As train(), with stderr (the usage errors) in `err` as well. */
static int train_err(const char *dir, const char *out, const char *err, int n_extra, const char **extra) {
    fflush(stderr);
    int fd = dup(fileno(stderr));
    if (fd < 0 || !freopen(err, "w", stderr)) return -1;
    int rc = train(dir, out, path("err.log"), n_extra, extra);
    fflush(stderr);
    dup2(fd, fileno(stderr));
    close(fd);
    return rc;
}

static char *record_of(const char *model) {
    static char rec[4096];
    rec[0] = '\0';
    ff_flow *f = load(model);
    if (f) CHECK_OK(ff_flow_get_training_record(f, rec, sizeof rec, NULL));
    ff_flow_destroy(f);
    return rec;
}

static void test_ema(void) {
    /* out of bounds: a usage error naming them */
    const char *big[] = {"--epochs", "1", "--ema", "1"};
    CHECK(train_err(data, path("x.safetensors"), path("ema-err.log"), 4, big) == 2);
    CHECK(log_has(path("ema-err.log"), "option --ema takes a number in [0, 0.999], got '1'", NULL));
    const char *neg[] = {"--epochs", "1", "--ema", "-0.1"};
    CHECK(train_err(data, path("x.safetensors"), path("ema-err.log"), 4, neg) == 2);

    /* after one epoch the average is the parameters; after three it is not */
    const char *one[] = {"--epochs", "1"}, *one_ema[] = {"--epochs", "1", "--ema", "0.6"};
    CHECK(train(data, path("one.safetensors"), path("one.log"), 2, one) == 0);
    CHECK(train(data, path("one-ema.safetensors"), path("one-ema.log"), 4, one_ema) == 0);
    ff_flow *a = load(path("one.safetensors")), *b = load(path("one-ema.safetensors"));
    CHECK(same_params(a, b));
    ff_flow_destroy(a);
    ff_flow_destroy(b);
    const char *three[] = {"--epochs", "3", "--ema", "0.6"};
    CHECK(train(data, path("full-ema.safetensors"), path("full-ema.log"), 4, three) == 0);
    CHECK(log_has(path("full-ema.log"), "moving average of the parameters over epochs (decay 0.6)", "wrote "));
    const char *rec = record_of(path("full-ema.safetensors"));
    printf("--ema 0.6 --epochs 3: %s\n", rec);
    CHECK(strcmp(rec, "{\"method\":\"epochs-fixed\",\"epochs\":3,\"ema_decay\":0.6}") == 0);
    ff_flow *full = load(path("full.safetensors")), *full_ema = load(path("full-ema.safetensors"));
    CHECK(full && full_ema && !same_params(full, full_ema));
    ff_flow_destroy(full);

    /* resumed: the same average; without --ema: refused */
    char ck[700];
    snprintf(ck, sizeof ck, "%s", path("ema.ckpt"));
    const char *two[] = {"--epochs", "2", "--ema", "0.6", "--checkpoint-every", "1", "--checkpoint", ck};
    CHECK(train(data, path("part-ema.safetensors"), path("part-ema.log"), 8, two) == 0);
    const char *res[] = {"--epochs", "3", "--ema", "0.6", "--resume", ck};
    CHECK(train(data, path("resumed-ema.safetensors"), path("resumed-ema.log"), 6, res) == 0);
    ff_flow *r = load(path("resumed-ema.safetensors"));
    CHECK(same_params(r, full_ema));
    printf("--ema 0.6 resumed after epoch 1: %s\n", same_params(r, full_ema) ? "identical" : "DIFFERENT");
    ff_flow_destroy(r);
    const char *plain[] = {"--epochs", "3", "--resume", ck};
    CHECK(train_err(data, path("x.safetensors"), path("ema-err.log"), 4, plain) == 1);
    CHECK(log_has(path("ema-err.log"), "--ema 0.6; resume with the options of the interrupted run", "--ema 0)"));

    /* --epochs auto: the criterion is the average's and the kept model the chosen epoch's average */
    const char *aut[] = {"--epochs", "auto", "--max-epochs", "3", "--patience", "1", "--select", "normal-mean",
                         "--val", data, "--ema", "0.6"};
    CHECK(train(data, path("auto-ema.safetensors"), path("auto-ema.log"), 12, aut) == 0);
    CHECK(log_has(path("auto-ema.log"), "scoring the moving average (decay 0.6)", NULL));
    rec = record_of(path("auto-ema.safetensors"));
    printf("--epochs auto --ema 0.6: %s\n", rec);
    CHECK(strstr(rec, "\"method\":\"epochs-auto\"") && strstr(rec, "\"ema_decay\":0.6,"));
    int chosen = num(rec, "chosen_epoch");
    CHECK(chosen >= 1 && chosen <= 3);
    ff_flow *kept = load(path("auto-ema.safetensors")), *ref = NULL;
    if (chosen == 3) {
        ref = full_ema;
        full_ema = NULL;
    } else {
        char ep[16];
        snprintf(ep, sizeof ep, "%d", chosen);
        const char *fx[] = {"--epochs", ep, "--ema", "0.6"};
        CHECK(train(data, path("fixed-ema.safetensors"), path("fixed-ema.log"), 4, fx) == 0);
        ref = load(path("fixed-ema.safetensors"));
    }
    CHECK(same_params(kept, ref));
    ff_flow_destroy(kept);
    ff_flow_destroy(ref);
    ff_flow_destroy(full_ema);
}

static void test_bf16_record(void) {
    int32_t bf16 = 0;
    CHECK_OK(ff_cpu_supports(FF_CPU_BF16, &bf16));
    if (!bf16) {
        printf("no native bf16 on this CPU: --precision bf16 records not checked\n");
        return;
    }
    char ck[700];
    snprintf(ck, sizeof ck, "%s", path("bf16.ckpt"));
    const char *one[] = {"--epochs", "2", "--precision", "bf16", "--checkpoint-every", "1", "--checkpoint", ck};
    CHECK(train(data, path("bf16.safetensors"), path("bf16.log"), 8, one) == 0);
    const char *rec = record_of(path("bf16.safetensors"));
    printf("--precision bf16 --epochs 2: %s\n", rec);
    CHECK(strcmp(rec, "{\"method\":\"epochs-fixed\",\"epochs\":2,\"ema_decay\":0,\"precision\":\"bf16\"}") == 0);
    const char *res[] = {"--epochs", "3", "--resume", ck};
    CHECK(train_err(data, path("x.safetensors"), path("bf16-err.log"), 4, res) == 1);
    CHECK(log_has(path("bf16-err.log"), "trained with bf16 convolutions and this trainer uses fp32", "--precision"));
    const char *aut[] = {"--epochs", "auto", "--max-epochs", "2", "--patience", "1", "--select", "normal-mean",
                         "--val", data, "--precision", "bf16"};
    CHECK(train(data, path("auto-bf16.safetensors"), path("auto-bf16.log"), 12, aut) == 0);
    rec = record_of(path("auto-bf16.safetensors"));
    CHECK(strstr(rec, "\"method\":\"epochs-auto\"") && strstr(rec, "\"precision\":\"bf16\","));
}

int main(void) {
    snprintf(weights, sizeof weights, "%s", path("w.safetensors"));
    snprintf(data, sizeof data, "%s", path("set"));
    snprintf(other, sizeof other, "%s", path("other"));
    snprintf(tmp, sizeof tmp, "%s", ff_test_tmpdir());
    if (ct_write_resnet18_weights(weights, 45) != 0 || ct_mvtec_set(data, 64, 12, 3, 3) != 0 ||
        ct_mvtec_set(other, 64, 11, 3, 3) != 0) {
        CHECK(!"writing the test set");
        return ff_test_finish();
    }
    test_auto("normal-mean", 0, 4, 1);
    test_auto("mean-auroc", 1, 3, 0);
    test_resume();
    test_ema();
    test_bf16_record();
    return ff_test_finish();
}
