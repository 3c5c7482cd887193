/* Subcommands of the fastflow tool. Each takes the arguments after its
 * name (argv[0] is the subcommand name) and returns the process exit code:
 * 0 success, 1 failure (message on stderr), 2 usage error. */
#ifndef FF_CLI_COMMANDS_H
#define FF_CLI_COMMANDS_H

int ff_cmd_features(int argc, char **argv);
int ff_cmd_train(int argc, char **argv);
int ff_cmd_score(int argc, char **argv);
int ff_cmd_eval(int argc, char **argv);
int ff_cmd_demo(int argc, char **argv);

#endif
