#!/usr/bin/env bash
# Checks the Vim syntax headlessly: opens tests/sample.spes with this
# folder on the runtimepath, asks Vim for the syntax group at each position
# of tests/expected.txt (`LINE:COL group`), and compares.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
actual="$(mktemp)"
trap 'rm -f "$actual"' EXIT
vim -N -u NONE -i NONE -n -es \
  --cmd "set runtimepath^=$here" \
  -c 'filetype plugin indent on' -c 'syntax on' \
  -c "edit $here/tests/sample.spes" \
  -c "let out = []" \
  -c "for spec in readfile('$here/tests/expected.txt') | let [pos, _] = split(spec) | let [l, c] = split(pos, ':') | call add(out, pos . ' ' . synIDattr(synID(str2nr(l), str2nr(c), 1), 'name')) | endfor" \
  -c "call add(out, 'filetype ' . &filetype . ' commentstring ' . &commentstring)" \
  -c "call writefile(out, '$actual')" \
  -c 'qa!' || true
expected="$(cat "$here/tests/expected.txt"; echo "filetype spes commentstring // %s")"
if diff <(echo "$expected") "$actual"; then
  echo "✓ vim: $(grep -c '' "$here/tests/expected.txt") positions have their syntax group"
else
  echo "vim syntax: groups differ (< expected, > actual)"; exit 1
fi
