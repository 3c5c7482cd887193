/* Writing HTML text safely: every string that reaches the report page
 * (paths, defect type names, metadata) goes through these, since a path
 * may hold < & " and must show as written, never as markup. */
#ifndef FF_CLI_REPORT_HTML_H
#define FF_CLI_REPORT_HTML_H

#include <stdio.h>

/* Writes s with & < > " ' replaced by character references (valid both as
 * element text and inside a double-quoted attribute). Bytes below 0x20
 * other than tab and newline become U+FFFD (they are not allowed in HTML);
 * other bytes (UTF-8) pass unchanged. */
void html_escape(FILE *f, const char *s);

/* A metric for people: `decimals` digits after the point, or an en dash
 * for NaN/infinity. */
void html_number(FILE *f, double v, int decimals);

/* The same value for machines, as the JSON writes it: %.9g, or "null". */
void html_exact(FILE *f, double v);

/* <span data-key="KEY" data-value="EXACT">HUMAN</span>: a number a test
 * (or a script) can read back exactly, shown rounded. key is escaped. */
void html_metric(FILE *f, const char *key, double v, int decimals);

#endif
