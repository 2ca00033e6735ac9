#!/usr/bin/env bash
# One entry point for newcomers and CI: installs missing Debian packages, builds, then
#   ./bootstrap.sh demo [demo args]   runs the local demo (no cloud account needed)
#   ./bootstrap.sh test [ctest args]  runs the whole test suite (unit, integration, e2e, deploy lint)
#   ./bootstrap.sh build              only installs and builds
# Idempotent: packages already installed are not reinstalled, the build is incremental.
set -euo pipefail
cd "$(dirname "$0")"

# The single list of Debian 12 packages the project needs to build, test and demo.
PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libboost-dev libboost-system-dev libstrophe-dev libcurl4-openssl-dev nlohmann-json3-dev
  prometheus-cpp-dev libspdlog-dev libcli11-dev libsystemd-dev libhowardhinnant-date-dev
  libexpat1-dev tzdata googletest libgtest-dev libgmock-dev clang-format
  prosody lua-unbound prometheus ansible-core ansible-lint yamllint systemd python3-yaml
  gnuplot-nox
)

install_missing() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "bootstrap: installing missing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  local dir="$1"; shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" "$@"
  fi
  cmake --build "$dir" -j2
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  build)
    install_missing
    build build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo
    ;;
  demo)
    install_missing
    build build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo
    exec build/release/jvb-autoscaler demo "$@"
    ;;
  test)
    install_missing
    # Tests run with AddressSanitizer + UBSan; CI also turns warnings into errors.
    werror=OFF
    [ "${CI:-}" = "true" ] && werror=ON
    build build/asan -DCMAKE_BUILD_TYPE=Debug -DJVB_SANITIZE=ON -DJVB_WERROR=$werror
    exec ctest --test-dir build/asan --output-on-failure -j2 --timeout 600 "$@"
    ;;
  *)
    echo "usage: ./bootstrap.sh demo|test|build [args]" >&2
    exit 2
    ;;
esac
