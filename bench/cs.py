"""Customer-service benchmark: the attribution and metrics engine on a month of
1,000,000 conversations (bench/_cs_engine.py), and — where those parts exist —
importing conversation rows (bench/_cs_import.py) and the team dashboard
(bench/_cs_dashboard.py).

Prints ONE JSON object on stdout; progress goes to stderr.

    .venv/bin/python bench/cs.py [--conversations 1000000] [--skip engine,import,dashboard]

Targets: attribution + all metrics for 1M conversations, 200 people, 60 accounts,
30 days < 1 s and ≤ 5 × one np.argsort of their start times; the engine ≥ 50 ×
the plain-Python reference on 100,000 conversations, with identical shares;
importing 1M conversation rows from CSV into SQLite < 60 s; team dashboard p95 < 100 ms.
"""
import argparse
import importlib
import json
import sys

PARTS = ("engine", "import", "dashboard")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--reference-conversations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261111)
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out: " + ",".join(PARTS))
    args = parser.parse_args()
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    unknown = skip - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    result = {}
    if "engine" not in skip:
        import _cs_engine

        result["engine"] = _cs_engine.measure_engine(conversations=args.conversations,
                                                     reference_conversations=args.reference_conversations,
                                                     seed=args.seed)
    for part in ("import", "dashboard"):
        if part in skip:
            continue
        try:
            module = importlib.import_module(f"_cs_{part}")
        except ModuleNotFoundError as error:
            if error.name != f"_cs_{part}":
                raise
            print(f"[bench/cs] no bench/_cs_{part}.py yet: skipped", file=sys.stderr, flush=True)
            continue
        result[part] = module.measure(args)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
