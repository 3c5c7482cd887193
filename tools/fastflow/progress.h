/* Progress of long work on stderr: "LABEL done/total  R img/s  ETA T",
 * one line redrawn in place (\r) and erased at the end, shown only when
 * stderr is a terminal, so that logs and pipes get nothing from it. */
#ifndef FF_CLI_PROGRESS_H
#define FF_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool on;            /* stderr is a terminal */
    bool drawn;         /* a line is on the screen */
    uint64_t total;     /* units of work (images) */
    uint64_t done;
    double start, last; /* monotonic seconds: begin, last redraw */
    char label[96];
} cli_progress;

/* Starts counting `total` units (images) under `label`. Draws nothing yet. */
void progress_begin(cli_progress *p, const char *label, uint64_t total);

/* Changes the label (e.g. "epoch 3/10") without resetting the counts. */
void progress_label(cli_progress *p, const char *label);

/* `done` units finished; `extra` (may be NULL) is appended to the line,
 * e.g. the loss. Redraws at most 10 times a second, and always when done
 * reaches total. */
void progress_update(cli_progress *p, uint64_t done, const char *extra);

/* Erases the line (before printing something else on the terminal); the
 * next update draws it again. */
void progress_clear(cli_progress *p);

/* Erases the line for good. */
void progress_end(cli_progress *p);

/* "42s", "3m05s", "1h02m". */
void progress_format_duration(double seconds, char *buf, int n);

#endif
