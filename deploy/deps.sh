#!/bin/sh
# Install the Debian packages hearth needs, only those that are missing.
#   deploy/deps.sh          build + run + test packages
#   deploy/deps.sh bench    also what `make bench` needs (wrk, gnuplot, perf)
#   deploy/deps.sh fuzz     also clang and its sanitizer runtimes
#   deploy/deps.sh lint     also clang-tidy and clang-format
# Runs apt-get as root, or through sudo; says what to do when neither works.
set -eu

pkgs="build-essential pkg-config libevent-dev libcurl4-openssl-dev libhiredis-dev
libcjson-dev libcmocka-dev redis-server runc busybox-static jq curl zip unzip
python3 iproute2 procps nginx-light"
case "${1:-}" in
  bench) pkgs="$pkgs wrk gnuplot-nox linux-perf" ;;
  fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
  lint) pkgs="$pkgs clang-tidy clang-format" ;;
esac

missing=""
for p in $pkgs; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = "installed" ] || missing="$missing $p"
done
# Actions of kind nodejs need a node binary; any packaged node (Debian's
# nodejs, or a NodeSource one already present) will do.
command -v node >/dev/null 2>&1 || [ -x /usr/bin/node ] || missing="$missing nodejs"
# npm fetches the openwhisk npm client: `make npm` into build/node_modules,
# which nodejs actions get on NODE_PATH (as OpenWhisk's nodejs images ship
# it), and the end-to-end tests into tests/e2e/node_modules.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
# tests/integration/deploy_files.sh validates the Kubernetes manifests with
# kubectl; a kubectl from another source (e.g. Google's package) will do, and
# Debian's would conflict with it, so only install one when there is none.
command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"

[ -z "$missing" ] && exit 0

echo "hearth: installing missing packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "hearth: need root or sudo to run: apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# An index older than a day (or none) is refreshed first, or installs fail.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
  $SUDO apt-get update -q
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing

# hearth runs its own nginx processes (the front of a one-machine cluster,
# benchmark baselines); the package's system service is not wanted.
case " $missing " in
*" nginx-light "*)
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
    $SUDO systemctl disable --now nginx >/dev/null 2>&1 &&
      echo "hearth: stopped and disabled the nginx system service the package started"
  fi ;;
esac
