/* html.h - one self-contained HTML page for people: headings, tables and
 * charts drawn as inline SVG, with no script and no network, so a report
 * can be mailed, attached to a pull request or opened offline.
 *
 * Used by `simulate --report` and `kpi --report`. Chart values are
 * doubles because they only set pixel sizes; labels carry exact figures
 * (money formatted by the caller). All text is HTML-escaped here. */
#ifndef DN_CLI_HTML_H
#define DN_CLI_HTML_H

#include <stdio.h>

#include "stdlib/status.h"

typedef struct dn_html dn_html;

/* One series of a chart: `values` has one entry per label. */
typedef struct dn_chart_series {
  const char *name;
  const double *values;
} dn_chart_series;

/* Writes the head (title, inline CSS). NULL when out of memory. */
dn_html *dn_html_open(FILE *out, const char *title);
void dn_html_heading(dn_html *h, const char *text);
void dn_html_paragraph(dn_html *h, const char *text);
/* header has ncols cells; cells has nrows * ncols, row-major. Columns
 * whose header ends in a right-aligned figure are set with align_right[i]
 * (may be NULL: all left). */
void dn_html_table(dn_html *h, int ncols, const char *const *header, int nrows,
                   const char *const *cells, const int *align_right);
/* Stacked bars, one bar per label, one colour per series, with a legend
 * and the axis in `unit`. */
void dn_html_bar_chart(dn_html *h, const char *title, int nlabels, const char *const *labels,
                       int nseries, const dn_chart_series *series, const char *unit);
/* One line per series over the labels (e.g. DSO by month). */
void dn_html_line_chart(dn_html *h, const char *title, int nlabels, const char *const *labels,
                        int nseries, const dn_chart_series *series, const char *unit);
/* The fixed colour of series i ("#rrggbb"), cycling after eight; the
 * screenshot test of tests/report/ counts pixels of these colours. */
const char *dn_html_series_colour(int i);
/* Writes the tail and frees h; DN_ERR_INTERNAL when any write failed. */
dn_status dn_html_close(dn_html *h);

#endif
