# Shell helpers for a udev-less guest (sourced by init-guest and tests).

# vports_link [SECONDS]: wait until every virtio-console port has its name
# (the device sends names after the guest driver is ready), then make the
# /dev/virtio-ports/<name> links that udev would make.
vports_link() {
	t=$(( ${1:-5} * 10 ))
	while [ "$t" -gt 0 ]; do
		missing=0
		for p in /sys/class/virtio-ports/vport*; do
			[ -e "$p" ] || continue
			[ -s "$p/name" ] || missing=1
		done
		[ "$missing" = 0 ] && break
		sleep 0.1
		t=$((t - 1))
	done
	mkdir -p /dev/virtio-ports
	for p in /sys/class/virtio-ports/vport*; do
		[ -s "$p/name" ] || continue
		ln -sf "/dev/${p##*/}" "/dev/virtio-ports/$(cat "$p/name")"
	done
}
