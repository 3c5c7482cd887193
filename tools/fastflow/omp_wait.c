/* The OpenMP wait policy of the fastflow command.
 *
 * libgomp's threads spin at every barrier for about 300,000 iterations
 * before they sleep. On a machine where another program keeps a core busy,
 * one of our threads is descheduled and the others burn their share
 * spinning for it: a training step slowed down 2.2x under one busy process
 * where the lost CPU share alone explains 1.5x (docs/performance.md, "Under
 * contention"). A short spin degrades in proportion to the CPU taken.
 *
 * libgomp reads GOMP_SPINCOUNT once, in its initialiser, which the dynamic
 * loader runs before main(). Nothing in this process runs early enough to
 * set it: a .preinit_array function runs before libgomp's initialiser, but
 * glibc's own initialiser then resets the environment to the one the
 * kernel passed, so a setenv() there is lost. So the command re-executes
 * itself once with the variable set (a few milliseconds, once per run).
 *
 * It only fills in a default: a GOMP_SPINCOUNT or OMP_WAIT_POLICY in the
 * environment wins (GOMP_SPINCOUNT=300000 restores libgomp's own default),
 * and the re-executed process finds the variable set, so this happens at
 * most once. Under valgrind it is skipped: valgrind would run the new image
 * untraced unless --trace-children=yes. A library cannot do this for its
 * host program; docs/performance.md says what to set there, and the Python
 * binding sets the same default before it loads libfastflow
 * (python/fastflow/_lib.py). */
#include "omp_wait.h"

#include <stdlib.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

void cli_omp_wait_default(char **argv) {
    if (getenv("GOMP_SPINCOUNT") != NULL || getenv("OMP_WAIT_POLICY") != NULL) return;
    if (RUNNING_ON_VALGRIND) return;
    if (setenv("GOMP_SPINCOUNT", FF_CLI_GOMP_SPINCOUNT, 0) != 0) return;
    execv("/proc/self/exe", argv);
    /* no /proc, or the binary is gone: carry on with libgomp's default,
     * and say so in the environment the way it really is */
    unsetenv("GOMP_SPINCOUNT");
}
