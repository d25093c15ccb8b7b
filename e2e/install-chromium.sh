#!/bin/sh
# install-chromium.sh puts Debian's Chromium on PATH for the e2e tests.
# It does nothing when a chromium binary is already there, so .ci/run can
# call it on every run. It needs root (or sudo) and Debian's package mirror.
set -eu

if command -v chromium >/dev/null 2>&1; then
	echo "install-chromium: $(chromium --version 2>/dev/null || echo chromium) already installed"
	exit 0
fi

# Run apt-get as root, or through sudo when the caller is not root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

export DEBIAN_FRONTEND=noninteractive
as_root apt-get update
as_root apt-get install -y chromium

if ! command -v chromium >/dev/null 2>&1; then
	echo "install-chromium: apt-get succeeded but chromium is still not on PATH" >&2
	exit 1
fi
echo "install-chromium: installed $(chromium --version 2>/dev/null || echo chromium)"
