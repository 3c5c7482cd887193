/* The report page's style sheet, in its own file so that report.c stays
 * about content. Laptop screens: a centred column up to 1200 px, plots in
 * a responsive grid; print: A4-friendly margins, no shadows, cards kept
 * whole, colours printed as shown. */
#ifndef FF_CLI_REPORT_STYLE_H
#define FF_CLI_REPORT_STYLE_H

/* The style sheet in pieces, NULL-terminated; write them in order. */
extern const char *const report_css[];

#endif
