#!/usr/bin/env python3
"""Make an ext4 image written by ``mkfs.ext4 -d`` reproducible: every inode's atime and ctime set to
SOURCE_DATE_EPOCH.

e2fsprogs 1.47.0 (Debian 12) copies atime, mtime and ctime of each source file into the new inode. build.sh
clamps mtimes in the tree, but ctime cannot be set from user space and atime moves whenever a file is read
(mkfs reading it is enough), so both are rewritten here with debugfs on the finished image. Superblock
times and crtime come from ``E2FSPROGS_FAKE_TIME`` at mkfs time; the same fake clock is set for debugfs, which
stamps the superblock's last write time when it closes the image.

Usage: ``ext4_normalize.py IMAGE EPOCH``. Standard library only; needs ``dumpe2fs`` and ``debugfs``.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FIRST_REGULAR_INODE = 11  # inodes 1-10 are reserved; mkfs writes them itself (with the fake time)
ROOT_INODE = 2


def used_inodes(image: Path) -> list[int]:
    """Inode numbers in use, from the per-group ``Free inodes:`` ranges of ``dumpe2fs``."""
    out = subprocess.run(
        ["dumpe2fs", str(image)], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    per_group = int(re.search(r"^Inodes per group:\s+(\d+)", out, re.M)[1])
    groups = [m.start() for m in re.finditer(r"^Group \d+:", out, re.M)] + [len(out)]
    used: list[int] = []
    for index, (start, end) in enumerate(itertools.pairwise(groups)):
        block = out[start:end]
        first, last = index * per_group + 1, (index + 1) * per_group
        free: set[int] = set()
        line = re.search(r"^\s+Free inodes:\s*(.*)$", block, re.M)
        for item in (line[1] if line else "").split(","):
            item = item.strip()
            if not item:
                continue
            low, _, high = item.partition("-")
            free.update(range(int(low), int(high or low) + 1))
        used.extend(n for n in range(first, last + 1) if n not in free)
    return [n for n in used if n == ROOT_INODE or n >= FIRST_REGULAR_INODE]


def normalize(image: Path, epoch: int) -> int:
    """Set atime and ctime of every used inode to ``epoch``; returns the number of inodes touched."""
    inodes = used_inodes(image)
    with tempfile.NamedTemporaryFile("w", suffix=".debugfs", delete=False) as script:
        for ino in inodes:
            for field in ("atime", "ctime"):
                script.write(f"set_inode_field <{ino}> {field} @{epoch}\n")
    try:
        result = subprocess.run(
            ["debugfs", "-w", "-f", script.name, str(image)],
            # libext2fs stamps the superblock's write time on close: the fake clock keeps it at the epoch.
            env={**os.environ, "E2FSPROGS_FAKE_TIME": str(epoch)},
            capture_output=True,
            text=True,
            timeout=1800,
        )
    finally:
        Path(script.name).unlink()
    # debugfs echoes every command on stdout; errors (bad inode, write failure) go to stderr.
    errors = [line for line in result.stderr.splitlines() if line and not line.startswith("debugfs ")]
    if result.returncode or errors:
        raise SystemExit(f"ext4_normalize: debugfs failed ({result.returncode}): {errors[:5]}")
    return len(inodes)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: ext4_normalize.py IMAGE EPOCH", file=sys.stderr)
        return 2
    count = normalize(Path(argv[0]), int(argv[1]))
    print(f"ext4_normalize: atime/ctime of {count} inodes set to @{argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
