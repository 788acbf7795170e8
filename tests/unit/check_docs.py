"""The README and docs/ hold no unfilled placeholders and no links to files that do not exist.

A placeholder is a line that is one upper-case token (e.g. `MEASURED_TIME_TABLE`, left for a
number that was never measured) or a TODO / TBD / FIXME marker. Links are the relative Markdown
links `[text](path)` and `[text](path#anchor)`; web addresses are not fetched.

usage: check_docs.py REPO_ROOT
"""
import re
import sys
from pathlib import Path

PLACEHOLDER_LINE = re.compile(r"^\s*[A-Z][A-Z0-9]*_[A-Z0-9_]+\s*$")
MARKER = re.compile(r"\b(TODO|TBD|FIXME)\b")
LINK = re.compile(r"\]\(([^()\s]+)\)")
FENCE = re.compile(r"^\s*```")


def problems_in(path: Path, root: Path) -> list[str]:
    found = []
    in_code = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.relative_to(root)}:{number}"
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        if PLACEHOLDER_LINE.match(line):
            found.append(f"{where}: unfilled placeholder {line.strip()!r}")
        if marker := MARKER.search(line):
            found.append(f"{where}: {marker.group(1)} marker")
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, …
                continue
            file_part = target.split("#", 1)[0]
            if file_part and not (path.parent / file_part).exists():
                found.append(f"{where}: link to a missing file {target!r}")
    return found


def main() -> int:
    root = Path(sys.argv[1]).resolve()
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    found = [p for page in pages for p in problems_in(page, root)]
    for problem in found:
        print(problem)
    print(f"{len(pages)} pages, {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
