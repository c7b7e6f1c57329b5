"""The mutation score per module, from the ``mutants/`` folder ``mutmut run`` leaves behind.

Prints a Markdown table (the one in ``benchmarks/MUTATION.md``) and, with ``--survivors``,
the name of every surviving mutant, one per line. Killed means a test failed, the run timed
out, or ``mypy --strict`` refused the mutant (CI's type gate; see
docs/contributing/mutation-testing.md); a mutant no test reaches counts as a survivor.

    python benchmarks/mutation_score.py                 # after `mutmut run`, from the root
    python benchmarks/mutation_score.py --survivors
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check"}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--mutants", type=Path, default=Path("mutants"))
    parser.add_argument("--survivors", action="store_true", help="list the survivors instead")
    args = parser.parse_args()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for meta in sorted(args.mutants.glob("**/*.py.meta")):
        module = meta.relative_to(args.mutants).as_posix().removesuffix(".meta")
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            status = status_by_exit_code[code] if code is not None else "not checked"
            if status == "check was interrupted by user":
                status = "not checked"  # the run was stopped while this one ran
            counts[module][status] += 1
            if status in ("survived", "no tests", "suspicious"):
                survivors.append(name)
    if args.survivors:
        print("\n".join(survivors))
        return 0
    print(
        "| module | mutants | type check | killed | timeout | survived | no tests | not run "
        "| score |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    totals: Counter[str] = Counter()
    for module, c in counts.items():
        totals.update(c)
        print(_row(f"`{module}`", c))
    print(_row("**all**", totals))
    return 0


def _row(label: str, c: Counter[str]) -> str:
    measured = sum(c.values()) - c["not checked"]
    killed = sum(c[s] for s in KILLED)
    score = f"{killed / measured:.1%}" if measured else "n/a"
    return (
        f"| {label} | {sum(c.values())} | {c['caught by type check']} | {c['killed']} | "
        f"{c['timeout']} | {c['survived']} | {c['no tests']} | {c['not checked']} | {score} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
