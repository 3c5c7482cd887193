/* fastflow: command-line front end of libfastflow. */
#include <stdio.h>
#include <string.h>

#include "fastflow.h"

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("fastflow %s\n%s\n", ff_version_string(), ff_build_info());
        return 0;
    }
    fprintf(stderr, "usage: fastflow --version\n");
    return 2;
}
