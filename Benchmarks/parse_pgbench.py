"""Reads pgbench output and its per-transaction logs; prints 'tps p99_ms'."""
import re, sys

text = sys.stdin.read()
tps = re.search(r"tps = ([\d.]+)", text)
latencies = []
for path in sys.argv[1:]:
    with open(path) as log:
        for line in log:
            fields = line.split()
            if len(fields) >= 3:
                latencies.append(int(fields[2]) / 1000.0)
latencies.sort()
p99 = latencies[int(len(latencies) * 0.99)] if latencies else float("nan")
print(f"{float(tps.group(1)) if tps else 0:.0f} {p99:.2f}")
