#include "report_html.h"

#include <math.h>

void html_escape(FILE *f, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (*p < 0x20 && *p != '\t' && *p != '\n') fputs("&#xFFFD;", f);
            else fputc(*p, f);
        }
    }
}

void html_number(FILE *f, double v, int decimals) {
    if (!isfinite(v)) fputs("&ndash;", f);
    else fprintf(f, "%.*f", decimals, v);
}

void html_exact(FILE *f, double v) {
    if (!isfinite(v)) fputs("null", f);
    else fprintf(f, "%.9g", v);
}

void html_metric(FILE *f, const char *key, double v, int decimals) {
    fputs("<span class=\"num\" data-key=\"", f);
    html_escape(f, key);
    fputs("\" data-value=\"", f);
    html_exact(f, v);
    fputs("\">", f);
    html_number(f, v, decimals);
    fputs("</span>", f);
}
