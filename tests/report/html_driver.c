/* html_driver.c - writes one page through cli/html.c directly, with
 * hostile text and awkward values, for tests/report/run.sh: three stacked
 * series (blue, orange, green), a line chart with a gap (NaN) and a
 * negative value, an empty chart, and a table. Built by run.sh with the
 * system compiler against the source file itself, since cli/ is not a
 * library the unit tests link. */
#include <math.h>
#include <stdio.h>

#include "cli/html.h"

int main(int argc, char **argv) {
  FILE *f = argc > 1 ? fopen(argv[1], "w") : stdout;
  if (!f) return 3;
  dn_html *h = dn_html_open(f, "Hostile <script>alert(1)</script> & \"title\"");
  if (!h) return 3;
  dn_html_heading(h, "<img src=x onerror=alert(1)>");
  dn_html_paragraph(h, "Tom & Jerry's \"quotes\" <b>not bold</b>\x01\x1b");
  const char *labels[] = {"<a href='x'>w1</a>", "w2", "w3", "w4"};
  const double a[] = {10, 20, 5, 0}, b[] = {5, NAN, 15, -3}, c[] = {8, 8, 8, INFINITY};
  const dn_chart_series s[] = {{"email <e>", a}, {"call & co", b}, {"letter", c}};
  dn_html_bar_chart(h, "Stacked <bars>", 4, labels, 3, s, "actions");
  const double l1[] = {3, NAN, -2, 4};
  const dn_chart_series ls[] = {{"line \"one\"", l1}, {"line two", a}};
  dn_html_line_chart(h, "Lines & gaps", 4, labels, 2, ls, "days");
  dn_html_bar_chart(h, "Empty", 0, NULL, 0, NULL, "");
  const char *hdr[] = {"name", "amount"};
  const char *cells[] = {"<td>inject</td>", "1.00", "O'Brien & Sons", "-2.50"};
  const int right[] = {0, 1};
  dn_html_table(h, 2, hdr, 2, cells, right);
  int st = dn_html_close(h);
  if (f != stdout && fclose(f) != 0) st = 3;
  return st;
}
