#!/usr/bin/env python3
"""Checks the code blocks of a Markdown text read from stdin.

Used by examples/fetch_analyze_document.spes: every ```python block must be
valid Python (it is compiled, not run). Prints how many blocks were checked;
exits 1 and names the first bad block otherwise.
"""

import argparse
import re
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--language", default="python")
    args = parser.parse_args()
    text = sys.stdin.read()
    pattern = re.compile(r"```" + re.escape(args.language) + r"\n(.*?)```", re.DOTALL)
    blocks = pattern.findall(text)
    for number, block in enumerate(blocks, start=1):
        try:
            compile(block, f"<block {number}>", "exec")
        except SyntaxError as error:
            print(f"block {number}: {error}", file=sys.stderr)
            return 1
    print(f"{len(blocks)} {args.language} blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
