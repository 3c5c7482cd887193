/* The report's building blocks (tools/fastflow/report_*.c): HTML escaping
 * of hostile text, base64 against RFC 4648's vectors, the gallery order
 * (missed defects, false alarms, then the rest by score), and the SVG
 * plots' data attributes. The whole page is checked in a browser by
 * tests/python/test_report_browser.py. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/fastflow/report_base64.h"
#include "../tools/fastflow/report_gallery.h"
#include "../tools/fastflow/report_html.h"
#include "../tools/fastflow/report_svg.h"
#include "test_util.h"

/* Runs fn(f, arg) on a memory stream; returns the text (free it). */
static char *capture(void (*fn)(FILE *, const void *), const void *arg) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fn(f, arg);
    fclose(f);
    return buf;
}

static void do_escape(FILE *f, const void *s) { html_escape(f, s); }
static void do_base64(FILE *f, const void *s) { base64_write(f, s, strlen(s)); }
static void do_hist(FILE *f, const void *h) { svg_histogram(f, h); }
static void do_curve(FILE *f, const void *c) { svg_curve_plot(f, c); }
static void do_metric(FILE *f, const void *v) { html_metric(f, "a<b", *(const double *)v, 4); }

static void expect(void (*fn)(FILE *, const void *), const void *arg, const char *want) {
    char *got = capture(fn, arg);
    CHECK(got && strcmp(got, want) == 0);
    if (got && strcmp(got, want) != 0) fprintf(stderr, "got  %s\nwant %s\n", got, want);
    free(got);
}

static void test_escape(void) {
    expect(do_escape, "/data/line <7> & \"A\" 'B'", "/data/line &lt;7&gt; &amp; &quot;A&quot; &#39;B&#39;");
    expect(do_escape, "</title><script>x</script>", "&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;");
    expect(do_escape, "caf\xc3\xa9\x01\tx", "caf\xc3\xa9&#xFFFD;\tx"); /* UTF-8 kept, control bytes replaced */
    expect(do_escape, "", "");
    double v = 0.123456789012;
    expect(do_metric, &v, "<span class=\"num\" data-key=\"a&lt;b\" data-value=\"0.123456789\">0.1235</span>");
    v = NAN;
    expect(do_metric, &v, "<span class=\"num\" data-key=\"a&lt;b\" data-value=\"null\">&ndash;</span>");
}

static void test_base64(void) {
    /* RFC 4648, section 10 */
    const char *in[7] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[7] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) expect(do_base64, in[i], out[i]);
    expect(do_base64, "\xff\xfe\xfd", "//79");
}

static void test_gallery(void) {
    /* threshold 0.5: 0 missed (0.2), 1 detected, 2 passed, 3 false alarm
     * (0.7), 4 missed (0.4), 5 false alarm (0.9), 6 passed, 7 detected */
    const float s[8] = {0.2f, 0.8f, 0.1f, 0.7f, 0.4f, 0.9f, 0.3f, 0.6f};
    const uint8_t l[8] = {1, 1, 0, 0, 1, 0, 0, 1};
    const size_t want[8] = {0, 4, 5, 3, 1, 7, 6, 2};
    size_t order[8];
    CHECK(gallery_order(s, l, 8, 0.5f, order) == 0);
    CHECK(memcmp(order, want, sizeof want) == 0);
    CHECK(gallery_classify(0.5f, 1, 0.5f) == GALLERY_DETECTED); /* flagged at score >= threshold */
    CHECK(gallery_classify(0.5f, 0, 0.5f) == GALLERY_FALSE_ALARM);
    CHECK(gallery_classify(0.49f, 1, 0.5f) == GALLERY_MISSED);
    CHECK(gallery_classify(0.49f, 0, 0.5f) == GALLERY_PASSED);
    /* ties keep index order */
    const float t[3] = {0.7f, 0.7f, 0.7f};
    const uint8_t u[3] = {0, 0, 0};
    CHECK(gallery_order(t, u, 3, 0.5f, order) == 0 && order[0] == 0 && order[1] == 1 && order[2] == 2);
}

static void test_svg(void) {
    const float s[6] = {0.0f, 0.1f, 0.2f, 0.9f, 1.0f, 1.0f};
    const uint8_t l[6] = {0, 0, 0, 1, 1, 1};
    svg_hist h = {"hist", "t<itle", s, l, 6, 0.5f, 4};
    char *svg = capture(do_hist, &h);
    CHECK(svg && strstr(svg, "data-lo=\"0\" data-hi=\"1\""));
    CHECK(svg && strstr(svg, "data-good=\"3 0 0 0\" data-defect=\"0 0 0 3\""));
    CHECK(svg && strstr(svg, "data-threshold=\"0.5\""));
    CHECK(svg && strstr(svg, "<title>t&lt;itle</title>") && strstr(svg, "class=\"threshold\""));
    CHECK(svg && strstr(svg, "</svg>") && !strstr(svg, "http:"));
    free(svg);
    const double x[3] = {0, 0.5, 1}, y[3] = {0, 0.75, 1};
    svg_curve c = {"roc", "ROC", "fpr", "tpr", 1.0, x, y, 3, 1, "AUROC 0.6250"};
    svg = capture(do_curve, &c);
    CHECK(svg && strstr(svg, "data-x=\"0 0.5 1\" data-y=\"0 0.75 1\""));
    CHECK(svg && strstr(svg, "<polyline class=\"curve\" points=\"") && strstr(svg, "class=\"chance\""));
    CHECK(svg && strstr(svg, ">AUROC 0.6250</text>"));
    free(svg);
}

int main(void) {
    test_escape();
    test_base64();
    test_gallery();
    test_svg();
    return ff_test_finish();
}
