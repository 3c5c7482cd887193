/* Base64 (RFC 4648, with padding, no line breaks) for the report's
 * embedded images: <img src="data:image/png;base64,...">. */
#ifndef FF_CLI_REPORT_BASE64_H
#define FF_CLI_REPORT_BASE64_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes the base64 encoding of data[0..n) to f. */
void base64_write(FILE *f, const uint8_t *data, size_t n);

#endif
