# Helpers for scripts that run inside the host VM (tools/vmrun). Each
# result line "check: ok NAME" / "check: not ok NAME" becomes one test
# point of `make check`.
# shellcheck shell=sh

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
REL=$(uname -r)
# linux-source series of the running kernel (6.1, 6.12, ...)
SERIES=$("$TOP/tools/kernels.sh" | awk -v r="$REL" '$1 == r {print $2}')
KMOD=$BUILD/kmod/$REL/vhost-trace/vhost_trace.ko
KSFT_DIR=$BUILD/linux-src/$SERIES/tools/testing/selftests
FAILED=0

check() {
	name=$1
	shift
	if "$@"; then
		echo "check: ok $name"
	else
		echo "check: not ok $name"
		FAILED=1
	fi
}

load_module() {
	modprobe vhost && insmod "$KMOD" && [ -c /dev/vhost-trace ]
}
