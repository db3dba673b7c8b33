#!/usr/bin/env python3
"""Include-direction check: every #include "..." in a module must name a module or proto that
the dependency table in DEVELOPERS.md allows, and each module README's "Tern dependencies:"
line must list exactly what the table allows. DEVELOPERS.md is the one place the rules live.

    tools/deps/check_deps.py [--root DIR]

Exits 0 when the tree follows the table, 1 with one line per violation otherwise.
"""
import argparse
import pathlib
import re
import sys

TABLE_HEADING = "## Dependency rules"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
# The list ends at the first "(" so that the line may say where the rule lives.
README_LINE = re.compile(r"^Tern dependencies:(.*)$", re.MULTILINE)
SOURCE_SUFFIXES = {".h", ".cc", ".cpp", ".hpp"}


def parse_table(developers_md: str):
    """Rows `| module | path | may include |` under TABLE_HEADING -> {module: (path, set)}."""
    start = developers_md.find(TABLE_HEADING)
    if start < 0:
        raise SystemExit(f"DEVELOPERS.md has no '{TABLE_HEADING}' section")
    rules = {}
    for line in developers_md[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("module", "") or set(cells[0]) <= {"-"}:
            continue
        allowed = {a.strip().strip("`") for a in cells[2].split(",") if a.strip() not in ("", "-")}
        rules[cells[0]] = (cells[1], allowed)
    return rules


def classify(include: str, rules) -> str | None:
    """What an include names: a module, `proto:NAME`, or None (the module's own or external)."""
    if include.endswith(".pb.h"):
        name = include.removesuffix(".pb.h").removesuffix(".grpc")
        return "proto:" + name.split("/")[-1]
    top = include.split("/")[0]
    for module, (path, _) in rules.items():
        if path.startswith("src/") and path.split("/")[-1] == top:
            return module
    if top == "tern" and "client" in rules:
        return "client"
    return None


def check(root: pathlib.Path) -> list[str]:
    rules = parse_table((root / "DEVELOPERS.md").read_text())
    problems = []
    for module, (path, allowed) in sorted(rules.items()):
        directory = root / path
        if not directory.is_dir():
            problems.append(f"{path}: named in DEVELOPERS.md's dependency rules but missing")
            continue
        for source in sorted(directory.rglob("*")):
            if source.suffix not in SOURCE_SUFFIXES:
                continue
            text = source.read_text(errors="replace")
            for match in INCLUDE.finditer(text):
                target = classify(match.group(1), rules)
                if target is None or target == module or target in allowed:
                    continue
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{source.relative_to(root)}:{line}: {module} may not include "
                                f'"{match.group(1)}" ({target}); allowed: '
                                f"{', '.join(sorted(allowed)) or 'nothing'}")
        readme = directory / "README.md"
        if readme.is_file():
            found = README_LINE.search(readme.read_text())
            listed = (None if found is None else
                      {a.strip().strip("`.") for a in found.group(1).split("(")[0].split(",")
                       if a.strip()} -
                      {"none"})
            if listed is None:
                problems.append(f"{readme.relative_to(root)}: no 'Tern dependencies:' line")
            elif listed != allowed:
                problems.append(f"{readme.relative_to(root)}: 'Tern dependencies:' lists "
                                f"{', '.join(sorted(listed)) or 'none'}, DEVELOPERS.md allows "
                                f"{', '.join(sorted(allowed)) or 'none'}")
        else:
            problems.append(f"{path}: module has no README.md")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parents[2])
    problems = check(parser.parse_args().root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} dependency rule violation(s); the rules are in DEVELOPERS.md")
        return 1
    print("include directions follow DEVELOPERS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
