"""Time benchmark: clocking in with 10 million clock events on record
(bench/_time_clock.py), computing attendance days for 1,000 people × one month and
serving the monthly sheet of a 300-person unit (bench/_time_attendance.py).

Prints ONE JSON object on stdout; progress goes to stderr.

    .venv/bin/python bench/time.py [--events 10000000] [--skip clock|attendance]

Targets: clock-in p95 < 20 ms at 10M events; attendance for 1,000 people × a month
< 1 s (numpy engine); monthly sheet page for a 300-person unit p95 < 200 ms.
"""
import argparse
import json

import _time_attendance as time_attendance
import _time_clock as time_clock


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="clock events on record")
    parser.add_argument("--skip", choices=("clock", "attendance"), action="append", default=[])
    args = parser.parse_args()
    result = {}
    if "clock" not in args.skip:
        result["clock"] = time_clock.measure(args)
    if "attendance" not in args.skip:
        result["attendance"] = time_attendance.measure(args)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
