"""compare.py SQL_ROWS KPI_JSON: the `name|num|den` rows of kpi.sql against
`dunlin kpi --format json`. Ratios are rounded half to even to two decimals
from the exact fraction; a zero denominator must be null. Prints one line
per difference and exits 1 if there is any."""
import json, sys
from decimal import Decimal, ROUND_HALF_EVEN
from fractions import Fraction

rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
k = json.load(open(sys.argv[2]), parse_float=Decimal)
want = {}
for name, num, den in rows:
    f = None if int(den) == 0 else Fraction(int(float(num)), int(den))
    want[name] = f
def two(f):
    return None if f is None else (Decimal(f.numerator) / Decimal(f.denominator)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
bad = 0
def check(name, got, exp):
    global bad
    if got != exp:
        print(f"{name}: dunlin {got!r}, expected {exp!r}"); bad += 1
check("open_invoices", k["open_invoices"], int(want["open_invoices"]))
check("open_ar", k["open_ar"], str(two(want["open_ar"])))
for b in ["current", "1-30", "31-60", "61-90", "90+"]:
    check("aging." + b, k["aging"][b], str(two(want["aging." + b])))
d, bp = two(want["dso"]), two(want["best_possible_dso"])
check("dso", k["dso"], d)
check("best_possible_dso", k["best_possible_dso"], bp)
check("add", k["add"], None if d is None or bp is None else d - bp)
months = {n[4:]: two(f) for n, f in want.items() if n.startswith("cei.")}
check("cei", {m: v for m, v in k["cei"].items()}, months)
check("dispute_resolution_days", k["dispute_resolution_days"], two(want["dispute_resolution_days"]))
keys = ["as_of", "currency", "period_days", "open_invoices", "open_ar", "dso", "best_possible_dso", "add",
        "aging", "cei", "promise_kept_rate", "dispute_resolution_days"]
check("keys", list(k.keys()), keys)
check("aging keys", list(k["aging"].keys()), ["current", "1-30", "31-60", "61-90", "90+"])
sys.exit(1 if bad else 0)
