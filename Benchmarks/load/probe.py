#!/usr/bin/env python3
"""Polls a URL (e.g. /readyz) until a stop file appears or a time limit passes, writing one CSV
line per answer: wall time sent, status (0 = no connection), milliseconds, first bytes of the body.

    python3 Benchmarks/load/probe.py http://127.0.0.1:8080/readyz out.csv --interval 0.1 --stop-file stop --limit 600
"""
import argparse
import http.client
import os
import time
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--stop-file")
    parser.add_argument("--limit", type=float, default=600, help="seconds at most")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--header", action="append", default=[], help="Name: value")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.url)
    path = url.path + ("?" + url.query if url.query else "")
    headers = dict(h.split(": ", 1) for h in args.header)
    end = time.time() + args.limit
    with open(args.out, "w", buffering=1) as out:
        out.write("t,status,ms,body\n")
        while time.time() < end and not (args.stop_file and os.path.exists(args.stop_file)):
            sent = time.time()
            status, body = 0, ""
            try:
                conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=args.timeout)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                status, body = response.status, response.read(120).decode("utf-8", "replace")
                conn.close()
            except Exception as error:  # refused, reset, timeout: recorded as status 0
                body = type(error).__name__
            ms = (time.time() - sent) * 1000
            out.write(f"{sent:.3f},{status},{ms:.1f},{body.replace(',', ';').replace(chr(10), ' ')}\n")
            time.sleep(max(0.0, args.interval - (time.time() - sent)))


if __name__ == "__main__":
    main()
