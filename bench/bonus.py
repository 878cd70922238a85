"""Bonus benchmark: the allocation engine on 10,000 pools × 50 people
(bench/_bonus_engine.py), and — where those parts exist — the what-if preview of a
500-person pool through the web stack (bench/_bonus_preview.py) and a 30-person team's
statements PDF beside WeasyPrint rendering one plain page (bench/_bonus_pdf.py).

Prints ONE JSON object on stdout; progress goes to stderr.

    .venv/bin/python bench/bonus.py [--pools 10000] [--people 50] [--skip engine,preview,pdf]

Targets: allocation for 10,000 pools × 50 people < 1 s; what-if preview p95 < 100 ms;
statements PDF for 30 people < 10 s.
"""
import argparse
import importlib
import json
import sys

PARTS = ("engine", "preview", "pdf")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pools", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: " + ",".join(PARTS))
    args = parser.parse_args()
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    unknown = skip - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    result = {}
    if "engine" not in skip:
        import _bonus_engine

        result["engine"] = _bonus_engine.measure_allocation(pools=args.pools, people=args.people, seed=args.seed)
    for part in ("preview", "pdf"):
        if part in skip:
            continue
        try:
            module = importlib.import_module(f"_bonus_{part}")
        except ModuleNotFoundError as error:
            if error.name != f"_bonus_{part}":
                raise
            print(f"[bench/bonus] no bench/_bonus_{part}.py yet: skipped", file=sys.stderr, flush=True)
            continue
        result[part] = module.measure(args)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
