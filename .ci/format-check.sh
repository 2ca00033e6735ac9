#!/usr/bin/env bash
# Fails (exit 1) and names every tracked C++ file whose layout differs from .clang-format.
# Run by ctest as `format.check` (CMake option JVB_FORMAT_CHECK) and so by ./bootstrap.sh test.
#   .ci/format-check.sh            every tracked *.cpp / *.h
#   .ci/format-check.sh FILE...    only these files
# To fix: clang-format -i FILE...
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
  echo "format check: clang-format is not installed (apt-get install clang-format)" >&2
  exit 1
fi
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.cpp' '*.h')
fi
[ ${#files[@]} -eq 0 ] && exit 0
bad=()
for file in "${files[@]}"; do
  clang-format --dry-run --Werror "$file" >/dev/null 2>&1 || bad+=("$file")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "format check: ${#bad[@]} file(s) differ from .clang-format; run: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "format check: ${#files[@]} file(s) formatted"
