/* The OpenMP wait policy of the fastflow command (omp_wait.c). */
#ifndef FF_CLI_OMP_WAIT_H
#define FF_CLI_OMP_WAIT_H

/* The spin count the command gives libgomp when the environment sets
 * neither GOMP_SPINCOUNT nor OMP_WAIT_POLICY. Chosen by
 * bench/run_contention.sh (docs/performance.md, "Under contention"). */
#define FF_CLI_GOMP_SPINCOUNT "10000"

/* Re-executes the command with GOMP_SPINCOUNT=FF_CLI_GOMP_SPINCOUNT when
 * the environment sets neither variable; returns (changing nothing) when
 * either is set, under valgrind, or when the re-execution fails. */
void cli_omp_wait_default(char **argv);

#endif
