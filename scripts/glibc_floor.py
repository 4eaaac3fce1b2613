"""Which glibc a Linux plugin archive (or unpacked folder) needs: the highest GLIBC_x.y symbol version
that any ELF file in it requires, read from `objdump -p` (binutils).

    python3 scripts/glibc_floor.py [--max 2.31] ARCHIVE_OR_FOLDER

Prints each ELF file's highest need and the overall highest. With --max, exits 1 when a file needs a
newer glibc than that, naming the file and the version. Standard library only: the release workflow runs
it with any python3.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import archive_contents

NEED = re.compile(r"^\s+0x[0-9a-f]+ 0x[0-9a-f]+ \d+ GLIBC_(\d+(?:\.\d+)+)\s*$")
Version = tuple[int, ...]


def parse(text: str) -> Version:
    return tuple(int(part) for part in text.split("."))


def show(version: Version) -> str:
    return ".".join(map(str, version))


def elf_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as data:
                if data.read(4) == b"\x7fELF":
                    yield path


def highest_need(path: Path) -> Version | None:
    """The highest GLIBC_x.y in the file's version references (what it needs from libc and friends)."""
    done = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"glibc_floor: objdump -p {path} failed: {done.stderr.strip()}")
    needs = [parse(m.group(1)) for line in done.stdout.splitlines() if (m := NEED.match(line))]
    return max(needs, default=None)


def scan(folder: Path) -> dict[str, Version | None]:
    """Each ELF file under folder (relative path) and the highest glibc version it needs (None: none)."""
    return {path.relative_to(folder).as_posix(): highest_need(path) for path in elf_files(folder)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="glibc_floor", description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="a .tar.gz plugin archive or an unpacked folder")
    parser.add_argument("--max", type=parse, help="the newest glibc the files may need, e.g. 2.31")
    args = parser.parse_args(argv)
    with archive_contents.unpacked(args.target) as folder:
        found = scan(folder)
    if not found:
        print(f"glibc_floor: no ELF file in {args.target}", file=sys.stderr)
        return 1
    for name, need in found.items():
        print(f"{show(need) if need else '-':>6}  {name}")
    highest = max((need for need in found.values() if need), default=None)
    print(f"highest GLIBC version needed: {show(highest) if highest else 'none'} ({len(found)} ELF files)")
    too_new = {name: need for name, need in found.items() if args.max and need and need > args.max}
    for name, need in too_new.items():
        print(f"glibc_floor: {name} needs GLIBC_{show(need)}, newer than {show(args.max)}: "
              "it was built or bundled from a newer system; build on the older one", file=sys.stderr)  # fmt: skip
    return 1 if too_new else 0


if __name__ == "__main__":
    sys.exit(main())
