"""One line of the report's pair list: an endpoint's and its mirror's throughput, their ratio, and
where each one's CPU went per request, so a ratio can be read as "haven costs this much per request
beside PostgreSQL" rather than guessed at.

    pair_line.py PATH "rps … | tps …" SECONDS CLK_TCK CPU_ENDPOINT CPU_MIRROR

The CPU files hold "busy_before busy_after haven_before haven_after client_user_s client_sys_s"
(machine-wide busy and haven's process in clock ticks, the load generator's own seconds).
PostgreSQL's share is what is left of the machine's busy time, so it also holds whatever else ran."""
import sys

path, line, seconds, tick = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
haven_side, mirror_side = line.split("|", 1)
rps, tps = float(haven_side.split()[0]), float(mirror_side.split()[0])


def split(cpu_file, rate):
    """→ (busy, haven, client) in ms per request, or None without a measurement."""
    try:
        b0, b1, h0, h1, user, system = open(cpu_file).read().split()
    except (OSError, ValueError):
        return None
    requests = rate * seconds
    if requests <= 0:
        return None
    per = 1000 / requests
    return ((float(b1) - float(b0)) / tick * per, (float(h1) - float(h0)) / tick * per, (float(user) + float(system)) * per)


text = f"/{path}: {rps:.0f} req/s, mirror {tps:.0f} tps, ratio {rps / tps if tps else 0:.2f}"
endpoint, mirror = split(sys.argv[5], rps), split(sys.argv[6], tps)
if endpoint and mirror:
    busy, haven, wrk = endpoint
    mbusy, _, pgbench = mirror
    text += (f" · CPU ms per request: haven {haven:.3f}, wrk {wrk:.3f}, PostgreSQL and the rest {busy - haven - wrk:.3f}"
             f" · per mirror transaction: pgbench {pgbench:.3f}, PostgreSQL and the rest {mbusy - pgbench:.3f}")
print(text)
