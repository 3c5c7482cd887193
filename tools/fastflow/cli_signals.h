/* Removal of a half-written temporary file when the CLI is interrupted. */
#ifndef FF_CLI_SIGNALS_H
#define FF_CLI_SIGNALS_H

/* Installs handlers for SIGINT, SIGTERM and SIGHUP (unless ignored, as
 * under nohup) that remove the temporary file of a save under way
 * (ff_atomic_write_abort), then end the process by the same signal, so the
 * exit status is what the shell expects. */
void cli_signals_install(void);

#endif
