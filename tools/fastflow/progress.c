#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "train_loop.h" /* cli_now_seconds */

/* Redraws closer than this are skipped: a terminal need not repaint per image. */
#define REDRAW_SECONDS 0.1

void progress_format_duration(double s, char *buf, int n) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, (size_t)n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, (size_t)n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, (size_t)n, "%lds", t);
}

void progress_begin(cli_progress *p, const char *label, uint64_t total) {
    memset(p, 0, sizeof *p);
    p->on = isatty(fileno(stderr)) != 0;
    p->total = total;
    p->start = cli_now_seconds();
    p->last = -1.0;
    progress_label(p, label);
}

void progress_label(cli_progress *p, const char *label) { snprintf(p->label, sizeof p->label, "%s", label); }

void progress_update(cli_progress *p, uint64_t done, const char *extra) {
    p->done = done;
    if (!p->on) return;
    double now = cli_now_seconds();
    if (p->drawn && done < p->total && now - p->last < REDRAW_SECONDS) return;
    p->last = now;
    double elapsed = now - p->start;
    char rate[48] = "", eta[64] = "";
    if (done > 0 && elapsed > 0.0) {
        snprintf(rate, sizeof rate, "  %.1f img/s", (double)done / elapsed);
        char d[48];
        progress_format_duration(elapsed / (double)done * (double)(p->total - (done < p->total ? done : p->total)), d,
                                 (int)sizeof d);
        snprintf(eta, sizeof eta, "  ETA %s", d);
    }
    char line[256];
    snprintf(line, sizeof line, "%s %llu/%llu%s%s%s%s", p->label, (unsigned long long)done,
             (unsigned long long)p->total, rate, eta, extra ? "  " : "", extra ? extra : "");
    /* a line wider than the terminal would wrap, and \r would then redraw
     * only its last part: cut it to the width */
    struct winsize ws;
    if (ioctl(fileno(stderr), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col <= sizeof line)
        line[ws.ws_col - 1] = '\0';
    /* \033[K erases what a longer previous line left to the right */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->drawn = true;
}

void progress_clear(cli_progress *p) {
    if (!p->on || !p->drawn) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->drawn = false;
}

void progress_end(cli_progress *p) {
    progress_clear(p);
    p->on = false;
}
