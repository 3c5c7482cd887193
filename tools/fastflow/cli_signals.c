/* See cli_signals.h. On Linux a save writes an unnamed file, so there is
 * usually nothing to remove; elsewhere (or on file systems without
 * O_TMPFILE) the named "<out>.tmp-XXXXXX" would otherwise stay behind. */
#include "cli_signals.h"

#include <signal.h>
#include <string.h>

#include "core/file_io.h"

static void on_signal(int sig) {
    ff_atomic_write_abort(); /* async-signal-safe: an atomic load and unlink */
    signal(sig, SIG_DFL);
    raise(sig); /* delivered when the handler returns: the default action ends the process */
}

void cli_signals_install(void) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}
