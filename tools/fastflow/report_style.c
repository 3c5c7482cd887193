#include "report_style.h"

#include <stddef.h>

/* One rule group per string: ISO C caps a string literal at 4095 characters. */
const char *const report_css[] = {
    ":root{--fg:#1d2330;--muted:#5b6474;--line:#d9dde5;--bg:#f5f6f8;--card:#fff;--accent:#1f5fa8;"
    "--good:#3b7dd8;--defect:#e0523f;--warn:#c77700}\n",
    "*{box-sizing:border-box}\n",
    "body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,'DejaVu Sans',sans-serif}\n",
    "main{max-width:1200px;margin:0 auto;padding:20px 24px 40px}\n",
    "h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;"
    "border-bottom:1px solid var(--line)}\n",
    ".sub{color:var(--muted);margin:0 0 16px;word-break:break-all}\n",
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:14px 0}\n",
    ".kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}\n",
    ".kpi .v{font-size:26px;font-weight:600;font-variant-numeric:tabular-nums}\n",
    ".kpi .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}\n",
    ".kpi .d{color:var(--muted);font-size:12px}\n",
    ".facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}\n",
    ".box{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px}\n",
    ".box h3{font-size:13px;margin:0 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}\n",
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:0}\n",
    "dt{color:var(--muted)}dd{margin:0;word-break:break-all}\n",
    ".plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}\n",
    "figure{margin:0}\n",
    ".plots figure{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 8px 6px}\n",
    ".plots figcaption{font-weight:600;margin:0 4px 2px}\n",
    ".plots .cap{color:var(--muted);font-size:12px;margin:2px 4px 0}\n",
    "svg.plot{width:100%;height:auto;display:block;font-size:12px}\n",
    "svg .grid line{stroke:#e8ebf0;stroke-width:1}svg .frame{fill:none;stroke:#9aa3b2;stroke-width:1}\n",
    "svg .ticks text{fill:var(--muted);font-size:11px}svg .label{fill:var(--fg);font-size:12px}\n",
    "svg .curve{fill:none;stroke:var(--accent);stroke-width:2;stroke-linejoin:round}\n",
    "svg .area{fill:var(--accent);fill-opacity:.12;stroke:none}\n",
    "svg .chance{stroke:#9aa3b2;stroke-dasharray:4 4}\n",
    "svg .note{fill:var(--fg);font-size:12px;font-weight:600}\n",
    "svg .bar-good,svg .bar-good rect{fill:var(--good);fill-opacity:.65}\n",
    "svg .bar-defect,svg .bar-defect rect{fill:var(--defect);fill-opacity:.65}\n",
    "svg .legend text{fill:var(--fg);font-size:12px}\n",
    "svg .threshold{stroke:var(--fg);stroke-width:1.5;stroke-dasharray:5 3}\n",
    "table{border-collapse:collapse;background:var(--card);border:1px solid var(--line);min-width:60%}\n",
    "th,td{padding:5px 12px;border-bottom:1px solid var(--line);text-align:right;"
    "font-variant-numeric:tabular-nums}\n",
    "th:first-child,td:first-child{text-align:left}thead th{background:#eef1f5;font-weight:600}\n",
    "tr.overall td{font-weight:600;border-top:2px solid var(--line)}\n",
    ".note-line{color:var(--muted);margin:8px 0}\n",
    ".scale{display:flex;align-items:center;gap:8px;color:var(--muted);font-size:12px;margin:6px 0 12px}\n",
    ".scale img{width:220px;height:12px;border:1px solid var(--line)}\n",
    ".gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px}\n",
    ".card{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--line);"
    "border-radius:8px;padding:8px;break-inside:avoid}\n",
    ".card.missed{border-left-color:var(--defect)}.card.false-alarm{border-left-color:var(--warn)}\n",
    ".card.detected{border-left-color:#6b8fbf}.card.passed{border-left-color:#8fbf8f}\n",
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:4px}\n",
    ".pair img{width:100%;height:auto;display:block;border-radius:4px;image-rendering:auto;background:#000}\n",
    ".card figcaption{margin-top:6px;font-size:12.5px}\n",
    ".card .file{color:var(--muted);word-break:break-all}\n",
    ".badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:11.5px;font-weight:600;color:#fff}\n",
    ".missed .badge{background:var(--defect)}.false-alarm .badge{background:var(--warn)}\n",
    ".detected .badge{background:#6b8fbf}.passed .badge{background:#5c9a5c}\n",
    "footer{color:var(--muted);font-size:12px;margin-top:28px}\n",
    "@media print{body{background:#fff;font-size:11px}main{max-width:none;padding:0}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    ".kpi,.box,.plots figure,.card,table{border-color:#bbb}"
    /* fixed columns that may shrink (minmax(0, 1fr)): the page width is the paper's */
    ".kpis{grid-template-columns:repeat(5,minmax(0,1fr))}.facts{grid-template-columns:repeat(2,minmax(0,1fr))}"
    ".plots{grid-template-columns:repeat(3,minmax(0,1fr))}.gallery{grid-template-columns:repeat(4,minmax(0,1fr))}"
    "h2{break-after:avoid}figure,.box,table{break-inside:avoid}@page{margin:14mm}}\n",
    NULL,
};
