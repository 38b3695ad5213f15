"""Reads lines 'rps p99_ms errors [p95_ms] | limit limit_p99_ms', one per pair of runs (haven, then
its pgbench mirror); prints 'rps p99_ms errors p95_ms limit limit_p99_ms ratio low-high': the
medians, the errors summed, and the median of the pairs' own ratios with their range. The machine's
load drifts during a run, so a ratio is taken within each pair, where both sides saw the same load."""
import statistics, sys

pairs = []
for line in sys.stdin:
    if "|" not in line:
        continue
    left, right = line.split("|", 1)
    haven, limit = left.split(), right.split()
    pairs.append((haven, limit))
if not pairs:
    print("0 nan 0 - 0 nan n/a -")
    sys.exit()

def median(values):
    return statistics.median(values)

rps = median([float(h[0]) for h, _ in pairs])
p99 = median([float(h[1]) for h, _ in pairs])
errors = sum(int(h[2]) for h, _ in pairs)
p95s = [float(h[3]) for h, _ in pairs if len(h) > 3]
p95 = f"{median(p95s):.2f}" if p95s else "-"
tps = median([float(l[0]) for _, l in pairs])
limit_p99 = median([float(l[1]) for _, l in pairs])
ratios = [float(h[0]) / float(l[0]) for h, l in pairs if float(l[0]) > 0]
ratio = f"{median(ratios):.2f}" if ratios else "n/a"
spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
print(f"{rps:.0f} {p99:.2f} {errors} {p95} {tps:.0f} {limit_p99:.2f} {ratio} {spread}")
