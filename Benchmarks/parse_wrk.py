"""Reads wrk --latency output; prints 'requests_per_second p99_ms non_2xx_or_errors [p95_ms]'."""
import re, sys

text = sys.stdin.read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", text, re.M)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
latency = float(p99.group(1)) * unit[p99.group(2)] if p99 else float("nan")
errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in socket.groups()) if socket else 0)
p95 = re.search(r"p95_us (\d+)", text)
extra = f" {int(p95.group(1)) / 1000:.2f}" if p95 else ""
print(f"{float(rps.group(1)) if rps else 0:.0f} {latency:.2f} {errors}{extra}")
