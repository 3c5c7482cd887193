/* Scorer internals that tests query. */
#ifndef FF_SCORE_SCORER_INTERNAL_H
#define FF_SCORE_SCORER_INTERNAL_H

#include <stdint.h>

#include "fastflow.h"

/* Backbone plans the scorer's extractor has built (see
 * ff_extractor_plan_builds). */
int64_t ff_scorer_plan_builds(const ff_scorer *s);

#endif
