/* fastflow: command-line front end of libfastflow. Dispatches to one
 * subcommand per file (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "cli_signals.h"
#include "commands.h"
#include "fastflow.h"
#include "omp_wait.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"features", ff_cmd_features, "write a backbone's feature maps of an image to safetensors"},
    {"train", ff_cmd_train, "train a FastFlow model on normal images"},
    {"score", ff_cmd_score, "score images with a trained model (scores, anomaly maps)"},
    {"eval", ff_cmd_eval, "evaluate a model on an MVTec AD test split (metrics, heatmaps)"},
    {"demo", ff_cmd_demo, "generate a synthetic set, train, evaluate and write heatmaps"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: fastflow <command> [options]\n       fastflow --version | --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'fastflow <command> --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("fastflow %s\n%s\n", ff_version_string(), ff_build_info());
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    /* before any work: libgomp is already running, so the wait policy
     * takes a re-execution (omp_wait.c) */
    cli_omp_wait_default(argv);
    cli_signals_install();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "fastflow: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
