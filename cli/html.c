/* html.c - the self-contained HTML page of cli/html.h: inline CSS, charts
 * as inline SVG, no script, no URL of any kind (not even an SVG xmlns,
 * which HTML5 does not need), every piece of text escaped.
 *
 * The series colours are fixed (kSeriesColour) because tests/report/ checks
 * a screenshot by counting pixels of exactly these colours; docs/reports.md
 * lists them. Nothing else on the page uses them. */
#include "cli/html.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct dn_html {
  FILE *out;
  int failed; /* any write failed: reported by dn_html_close */
  int charts; /* charts written so far, to keep SVG ids unique */
};

/* Saturated colours far from the greys and black of text and axes. */
static const char *const kSeriesColour[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
};
enum { kNColours = (int)(sizeof kSeriesColour / sizeof kSeriesColour[0]) };

/* Chart geometry in SVG user units (pixels at 100 % zoom). */
enum { kW = 760, kH = 320, kLeft = 80, kRight = 20, kTop = 16, kBottom = 64, kLegendRow = 22 };

static const char kStyle[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;"
    "max-width:960px;color:#222;background:#fff;line-height:1.4}"
    "h1{font-size:1.6em;margin:0 0 .6em}h2{font-size:1.25em;margin:1.4em 0 .5em;"
    "border-bottom:1px solid #ddd;padding-bottom:.2em}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "th,td{border:1px solid #ccc;padding:4px 10px;vertical-align:top}"
    "th{background:#f3f3f3;text-align:left}td.num,th.num{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    "figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg text{font-size:11px;fill:#333}svg .axis{stroke:#555;stroke-width:1}"
    "svg .grid{stroke:#e4e4e4;stroke-width:1}";

const char *dn_html_series_colour(int i) {
  if (i < 0) i = 0;
  return kSeriesColour[i % kNColours];
}

static void put(dn_html *h, const char *s) {
  if (fputs(s, h->out) == EOF) h->failed = 1;
}

static void putf(dn_html *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (vfprintf(h->out, fmt, ap) < 0) h->failed = 1;
  va_end(ap);
}

/* Escapes for both text and attribute values; drops control characters
 * other than tab and newline, which HTML cannot carry safely. */
static void put_text(dn_html *h, const char *s) {
  if (s == NULL) return;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '&': put(h, "&amp;"); break;
      case '<': put(h, "&lt;"); break;
      case '>': put(h, "&gt;"); break;
      case '"': put(h, "&quot;"); break;
      case '\'': put(h, "&#39;"); break;
      default:
        if (*p < 0x20 && *p != '\n' && *p != '\t') break;
        if (fputc(*p, h->out) == EOF) h->failed = 1;
    }
  }
}

dn_html *dn_html_open(FILE *out, const char *title) {
  if (out == NULL) return NULL;
  dn_html *h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  h->out = out;
  put(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
  put_text(h, title);
  put(h, "</title>\n<style>");
  put(h, kStyle);
  put(h, "</style>\n</head>\n<body>\n<h1>");
  put_text(h, title);
  put(h, "</h1>\n");
  return h;
}

void dn_html_heading(dn_html *h, const char *text) {
  if (h == NULL) return;
  put(h, "<h2>");
  put_text(h, text);
  put(h, "</h2>\n");
}

void dn_html_paragraph(dn_html *h, const char *text) {
  if (h == NULL) return;
  put(h, "<p>");
  put_text(h, text);
  put(h, "</p>\n");
}

static void put_cell(dn_html *h, const char *tag, const char *text, int right) {
  putf(h, right ? "<%s class=\"num\">" : "<%s>", tag);
  put_text(h, text);
  putf(h, "</%s>", tag);
}

void dn_html_table(dn_html *h, int ncols, const char *const *header, int nrows,
                   const char *const *cells, const int *align_right) {
  if (h == NULL || ncols <= 0) return;
  put(h, "<table>\n<thead><tr>");
  for (int c = 0; c < ncols; c++)
    put_cell(h, "th", header ? header[c] : "", align_right && align_right[c]);
  put(h, "</tr></thead>\n<tbody>\n");
  for (int r = 0; r < nrows && cells; r++) {
    put(h, "<tr>");
    for (int c = 0; c < ncols; c++)
      put_cell(h, "td", cells[(size_t)r * (size_t)ncols + (size_t)c], align_right && align_right[c]);
    put(h, "</tr>\n");
  }
  put(h, "</tbody>\n</table>\n");
}

/* ---- charts ---------------------------------------------------------- */

static double finite_or(double v, double fallback) { return isfinite(v) ? v : fallback; }

/* A step of 1, 2 or 5 times a power of ten giving about five ticks. */
static double nice_step(double span) {
  if (!(span > 0)) return 1;
  double raw = span / 5;
  double mag = pow(10, floor(log10(raw)));
  double f = raw / mag;
  double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return m * mag;
}

typedef struct axis {
  double lo, hi, step;
} axis;

static axis make_axis(double lo, double hi) {
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  if (hi - lo <= 0) hi = lo + 1;
  axis a;
  a.step = nice_step(hi - lo);
  a.lo = floor(lo / a.step) * a.step;
  a.hi = ceil(hi / a.step) * a.step;
  if (a.hi <= a.lo) a.hi = a.lo + a.step;
  return a;
}

static double plot_h(void) { return (double)(kH - kTop - kBottom); }
static double plot_w(void) { return (double)(kW - kLeft - kRight); }

static double y_of(const axis *a, double v) {
  return kTop + plot_h() * (1 - (v - a->lo) / (a->hi - a->lo));
}

/* Tick labels: enough digits for the step, no trailing noise like
 * 0.30000000000000004, and large values shortened with k, M or G (the
 * axis is for reading shapes; exact figures are in the tooltips). */
static void fmt_tick(char *buf, size_t n, double v, const axis *a) {
  double top = fmax(fabs(a->lo), fabs(a->hi)), div = 1;
  const char *suffix = "";
  if (top >= 1e9) div = 1e9, suffix = "G";
  else if (top >= 1e6) div = 1e6, suffix = "M";
  else if (top >= 1e4) div = 1e3, suffix = "k";
  double step = a->step / div;
  v /= div;
  int decimals = 0;
  while (decimals < 6 && fabs(step * pow(10, decimals) - round(step * pow(10, decimals))) > 1e-9)
    decimals++;
  if (fabs(v) < step * 1e-9) snprintf(buf, n, "0");
  else snprintf(buf, n, "%.*f%s", decimals, v, suffix);
}

static void open_chart(dn_html *h, const char *title, int nseries, const char *kind) {
  int legend_rows = (nseries + 3) / 4;
  h->charts++;
  putf(h, "<figure class=\"chart %s\">\n<figcaption>", kind);
  put_text(h, title);
  putf(h, "</figcaption>\n<svg role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" aria-label=\"",
       kW, kH + legend_rows * kLegendRow, kW, kH + legend_rows * kLegendRow);
  put_text(h, title);
  put(h, "\">\n");
}

static void draw_y_axis(dn_html *h, const axis *a, const char *unit) {
  char buf[64];
  for (double v = a->lo; v <= a->hi + a->step * 1e-6; v += a->step) {
    double y = y_of(a, v);
    putf(h, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", kLeft, y, kW - kRight, y);
    fmt_tick(buf, sizeof buf, v, a);
    putf(h, "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", kLeft - 5, y, kLeft, y);
    putf(h, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" dominant-baseline=\"middle\">%s</text>\n",
         kLeft - 8, y, buf);
  }
  putf(h, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", kLeft, kTop, kLeft, kH - kBottom);
  putf(h, "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", kLeft, y_of(a, 0),
       kW - kRight, y_of(a, 0));
  if (unit && *unit) {
    putf(h, "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">",
         kTop + plot_h() / 2, kTop + plot_h() / 2);
    put_text(h, unit);
    put(h, "</text>\n");
  }
}

/* Labels under the x axis at the centre of each slot; rotated when
 * there are too many to fit side by side. */
static void draw_x_labels(dn_html *h, int nlabels, const char *const *labels, double slot) {
  int rotate = slot < 56;
  for (int i = 0; i < nlabels; i++) {
    double x = kLeft + slot * (i + 0.5);
    double y = kH - kBottom + 16;
    putf(h, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, kH - kBottom, x,
         kH - kBottom + 5);
    if (rotate)
      putf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-40 %.1f %.1f)\">", x,
           y, x, y);
    else
      putf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
    put_text(h, labels ? labels[i] : "");
    put(h, "</text>\n");
  }
}

static void draw_legend(dn_html *h, int nseries, const dn_chart_series *series) {
  for (int s = 0; s < nseries; s++) {
    int x = kLeft + (s % 4) * 170;
    int y = kH + (s / 4) * kLegendRow;
    putf(h, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", x, y - 2,
         dn_html_series_colour(s));
    putf(h, "<text x=\"%d\" y=\"%d\" dominant-baseline=\"middle\">", x + 18, y + 4);
    put_text(h, series[s].name);
    put(h, "</text>\n");
  }
}

static void close_chart(dn_html *h) { put(h, "</svg>\n</figure>\n"); }

static double series_value(const dn_chart_series *s, int i) {
  return s->values ? s->values[i] : NAN;
}

/* Whether every series lacks a value at i (a figure whose denominator was
 * zero): the bar says "n/a", so that it does not read as a 0 bar. */
static int no_value(const dn_chart_series *series, int nseries, int i) {
  for (int s = 0; s < nseries; s++)
    if (isfinite(series_value(&series[s], i))) return 0;
  return 1;
}

/* Negative or non-finite values draw nothing in a stacked bar: a stack
 * only makes sense for parts of a whole. */
void dn_html_bar_chart(dn_html *h, const char *title, int nlabels, const char *const *labels,
                       int nseries, const dn_chart_series *series, const char *unit) {
  if (h == NULL || nlabels < 0 || nseries < 0 || (nseries > 0 && series == NULL)) return;
  double top = 0;
  for (int i = 0; i < nlabels; i++) {
    double sum = 0;
    for (int s = 0; s < nseries; s++) sum += fmax(0, finite_or(series_value(&series[s], i), 0));
    top = fmax(top, sum);
  }
  axis a = make_axis(0, top);
  open_chart(h, title, nseries, "bars");
  draw_y_axis(h, &a, unit);
  double slot = nlabels > 0 ? plot_w() / nlabels : plot_w();
  double bw = slot * 0.64;
  char buf[64];
  for (int i = 0; i < nlabels; i++) {
    double base = 0;
    double x = kLeft + slot * i + (slot - bw) / 2;
    for (int s = 0; s < nseries; s++) {
      double v = fmax(0, finite_or(series_value(&series[s], i), 0));
      if (v <= 0) continue;
      double y1 = y_of(&a, base + v), y0 = y_of(&a, base);
      putf(h, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x, y1,
           bw, y0 - y1, dn_html_series_colour(s));
      put_text(h, labels ? labels[i] : "");
      put(h, " - ");
      put_text(h, series[s].name);
      snprintf(buf, sizeof buf, ": %.2f", v);
      put_text(h, buf);
      put(h, "</title></rect>\n");
      base += v;
    }
    if (nseries > 0 && no_value(series, nseries, i))
      putf(h, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"na\">n/a</text>\n", x + bw / 2,
           y_of(&a, 0) - 4);
  }
  draw_x_labels(h, nlabels, labels, slot);
  draw_legend(h, nseries, series);
  close_chart(h);
}

/* Non-finite values (a figure with an empty denominator) break the line
 * rather than pretend to be zero. */
void dn_html_line_chart(dn_html *h, const char *title, int nlabels, const char *const *labels,
                        int nseries, const dn_chart_series *series, const char *unit) {
  if (h == NULL || nlabels < 0 || nseries < 0 || (nseries > 0 && series == NULL)) return;
  double lo = 0, hi = 0;
  for (int s = 0; s < nseries; s++)
    for (int i = 0; i < nlabels; i++) {
      double v = series_value(&series[s], i);
      if (!isfinite(v)) continue;
      lo = fmin(lo, v);
      hi = fmax(hi, v);
    }
  axis a = make_axis(lo, hi);
  open_chart(h, title, nseries, "lines");
  draw_y_axis(h, &a, unit);
  double slot = nlabels > 0 ? plot_w() / nlabels : plot_w();
  char buf[64];
  for (int s = 0; s < nseries; s++) {
    const char *colour = dn_html_series_colour(s);
    putf(h, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"3\" stroke-linejoin=\"round\" d=\"", colour);
    int pen_down = 0;
    for (int i = 0; i < nlabels; i++) {
      double v = series_value(&series[s], i);
      if (!isfinite(v)) {
        pen_down = 0;
        continue;
      }
      putf(h, "%c%.1f %.1f ", pen_down ? 'L' : 'M', kLeft + slot * (i + 0.5), y_of(&a, v));
      pen_down = 1;
    }
    put(h, "\"/>\n");
    for (int i = 0; i < nlabels; i++) {
      double v = series_value(&series[s], i);
      if (!isfinite(v)) continue;
      putf(h, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>", kLeft + slot * (i + 0.5),
           y_of(&a, v), colour);
      put_text(h, labels ? labels[i] : "");
      put(h, " - ");
      put_text(h, series[s].name);
      snprintf(buf, sizeof buf, ": %.2f", v);
      put_text(h, buf);
      put(h, "</title></circle>\n");
    }
  }
  draw_x_labels(h, nlabels, labels, slot);
  draw_legend(h, nseries, series);
  close_chart(h);
}

dn_status dn_html_close(dn_html *h) {
  if (h == NULL) return DN_ERR_INTERNAL;
  put(h, "</body>\n</html>\n");
  if (fflush(h->out) == EOF || ferror(h->out)) h->failed = 1;
  dn_status st = h->failed ? DN_ERR_INTERNAL : DN_OK;
  free(h);
  return st;
}
