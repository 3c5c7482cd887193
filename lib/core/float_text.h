/* The shortest decimal text of a float setting, used wherever one is shown
 * or written back (training records, CLI messages) and where the double a
 * user meant is needed (Adam's scalars, as Python computes them). */
#ifndef FF_CORE_FLOAT_TEXT_H
#define FF_CORE_FLOAT_TEXT_H

#include <stddef.h>

/* The shortest %g text (1 to 9 significant digits) that reads back as x:
 * "0.6" for 0.6f, not "0.600000024". Returns buf. */
const char *ff_float_text(float x, char *buf, size_t cap);

#endif
