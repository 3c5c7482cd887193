/* make_synth_set: writes a synthetic inspection set (synth_dataset.h) with
 * chosen defect kinds, for the stopping-criteria study's held-out sets.
 * usage: make_synth_set DIR TEXTURE SEED KIND[,KIND...] [TRAIN GOOD DEFECT]
 *   e.g. make_synth_set /tmp/synth-crack granite 7 crack,dent 120 20 20 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fastflow/synth_dataset.h"

int main(int argc, char **argv) {
    if (argc != 5 && argc != 8) {
        fprintf(stderr, "usage: make_synth_set DIR TEXTURE SEED KIND[,KIND...] [TRAIN GOOD DEFECT]\n");
        return 2;
    }
    synth_dataset_config c;
    synth_dataset_defaults(&c);
    c.params.texture = synth_texture_from_name(argv[2]);
    c.params.seed = strtoull(argv[3], NULL, 10);
    c.kinds = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", argv[4]);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int32_t k = 1;
        while (k < SYNTH_NUM_KINDS && strcmp(synth_kind_name(k), tok) != 0) k++;
        if (k == SYNTH_NUM_KINDS) {
            fprintf(stderr, "make_synth_set: unknown defect kind '%s'\n", tok);
            return 2;
        }
        c.kinds |= 1u << k;
    }
    if (c.params.texture < 0) {
        fprintf(stderr, "make_synth_set: unknown texture '%s'\n", argv[2]);
        return 2;
    }
    if (argc == 8) {
        c.num_train = atoi(argv[5]);
        c.num_test_good = atoi(argv[6]);
        c.num_test_defect = atoi(argv[7]);
    }
    return synth_dataset_write("make_synth_set", &c, argv[1]);
}
