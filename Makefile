# vhost-trace top-level Makefile.
#
#   make            build the module for every supported kernel, the
#                   kselftests, QEMU with the qemu-glue series (the full
#                   one: shipped and tested), VM images
#   make check      install what is missing, build, run all tests (TAP)
#   make check-debug the module's tests and vt_fuzz on a debug kernel
#                   (KASAN, lockdep, kmemleak, UBSAN; built once, cached)
#   make fuzz-ring  vt_fuzz for FUZZ_TIME s (600) on the debug kernel
#   make demo       the main job on its built-in default (see README)
#   make deps       only install dependencies (apt, QEMU source)
#   make checkpatch kernel coding style of vhost-trace/
#   make install    the host side: vhost-traced, vhost-trace, vhost-trace-dat,
#                   man pages, udev rule, modules-load.d, systemd unit,
#                   sysusers.d, the module's source for DKMS
#                   (PREFIX=/usr/local, DESTDIR honoured)
#   make install-agent  the guest side: trace-agent, its unit, udev rule
#   make deb        Debian packages in $(BUILD)/deb (packaging/debian)
#   make qemu       QEMU with vhost-trace-pci and every default device (q35,
#                   virtio-blk/net, ...): vhost-trace-qemu ships it, the
#                   tests run it (qemu-glue/build.sh; make qemu-full: the same)
#   make check-qemu-full  only make check's stage qemufull: it, packaged,
#                   boots a q35 guest from virtio-blk with virtio-net,
#                   traced (selftests/vm/qemu_full.sh)
#
# Supported kernels are discovered from the installed packages
# (tools/dev/kernels.sh); everything built goes to $(BUILD).

BUILD ?= $(CURDIR)/build
export BUILD

KERNELS = $(shell tools/dev/kernels.sh)

.PHONY: all deps modules selftests qemu vm-images libvt tracedat tools guest agent-ctl traced check demo bench bench-scale bench-transports bench-tools checkpatch clean fuzz
.PHONY: debug-kernel check-debug fuzz-ring
.PHONY: install install-agent install-dkms deb qemu-full check-qemu-full

all: modules selftests qemu vm-images libvt tracedat tools guest agent-ctl traced

deps:
	@tools/dev/deps.sh $(BUILD)

# One line per kernel: "release series".
modules:
	@k=$$(tools/dev/kernels.sh); \
	if [ -z "$$k" ]; then tools/dev/kernels.sh --why >&2; exit 1; fi; \
	echo "$$k" | while read -r rel series; do \
		tools/dev/build-module.sh $(BUILD) $$rel $$series || exit 1; \
	done

# The kselftests, built once per linux-source series against its own
# kselftest_harness.h and lib.mk.
selftests:
	@for s in $$(tools/dev/kernels.sh | awk '{print $$2}' | sort -u); do \
		tools/dev/linux-src.sh /usr/src/linux-source-$$s.tar.xz \
			$(BUILD)/linux-src/$$s && \
		$(MAKE) -s -C selftests all OUTPUT=$(BUILD)/selftests/$$s \
			KSFT_DIR=$(BUILD)/linux-src/$$s/tools/testing/selftests \
			|| exit 1; \
	done

# The QEMU that runs normal VMs (every default device) with vhost-trace-pci:
# installed as qemu-system-x86_64-vhost-trace beside the distribution's
# (vhost-trace-qemu), and the one the tests run (build/qemu/full). The
# tests-only build of old (KVM only, pc, the tests' devices; ~70 s less on
# 2 cores): qemu-glue/build.sh $(BUILD) test.
qemu:
	@qemu-glue/build.sh $(BUILD) full

qemu-full: qemu

# The code the guest agent and the host tools share: libvt.a.
libvt:
	@$(MAKE) -s -C tools/libvt BUILD=$(BUILD)

# The native trace.dat writer: libtracedat.a, and vhost-trace-dat.
tracedat:
	@$(MAKE) -s -C tools/tracedat BUILD=$(BUILD)
	@$(MAKE) -s -C tools/vhost-trace-dat BUILD=$(BUILD)

# Host tools, and vt-pattern (static: it also runs in busybox guests).
tools: $(BUILD)/tools/vhost-trace-launch $(BUILD)/tools/vt-pattern

$(BUILD)/tools/vhost-trace-launch: tools/launch/vhost-trace-launch.c \
		vhost-trace/uapi/linux/vhost_trace.h
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Ivhost-trace/uapi -o $@ $<

# Its pattern and checker are the kselftests' (one source for both).
$(BUILD)/tools/vt-pattern: selftests/pattern/vt-pattern.c \
		selftests/vhost_trace/vt_pattern.c selftests/vhost_trace/vt_pattern.h
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Wno-unused-parameter -static -pthread \
		-DVT_PATTERN_ONLY -Iselftests/vhost_trace -o $@ \
		selftests/pattern/vt-pattern.c selftests/vhost_trace/vt_pattern.c

# The guest trace agent (static) and its host-side control tool.
guest:
	@$(MAKE) -s -C guest BUILD=$(BUILD)

agent-ctl:
	@$(MAKE) -s -C tools/agent-ctl BUILD=$(BUILD)

# The host daemon and its CLI: vhost-traced, vhost-trace.
traced:
	@$(MAKE) -s -C tools/traced BUILD=$(BUILD)
	@$(MAKE) -s -C tools/cli BUILD=$(BUILD)

vm-images:
	@tools/dev/kernels.sh | while read -r rel series; do \
		for k in host guest; do \
			img=$(BUILD)/vm/initramfs-$$k-$$rel.cpio.gz; \
			tools/dev/vm/mkinitramfs.sh $$k $$rel $$img || exit 1; \
		done; \
	done

check:
	@selftests/check.sh

# The debug kernel, built once into /var/cache/vhost-trace/debug-kernel
# (tools/dev/debug-kernel.sh), and the module built against it.
debug-kernel:
	@tools/dev/debug-kernel.sh $(BUILD)
	@read -r rel series _ < $(BUILD)/debug-kernel.release && \
		tools/dev/build-module.sh $(BUILD) $$rel $$series

check-debug:
	@STAGES=debug selftests/check.sh

# The full QEMU built, packaged and booting a q35 guest from virtio-blk with
# virtio-net, traced: make check's stage qemufull alone.
check-qemu-full:
	@STAGES=qemufull selftests/check.sh

# The randomized hostile driver for longer: FUZZ_TIME seconds (one
# episode: FUZZ_SEED=N), then a kmemleak scan, on the debug kernel.
FUZZ_TIME ?= 600
fuzz-ring: debug-kernel selftests
	@read -r rel series _ < $(BUILD)/debug-kernel.release && \
	tools/dev/vmrun -k $$rel -t $$(($(FUZZ_TIME) + 1200)) -- \
		selftests/vm/suite.sh "KMEMLEAK=clear kmemleak.sh" \
		"FUZZ_TIME=$(FUZZ_TIME) $(if $(FUZZ_SEED),FUZZ_SEED=$(FUZZ_SEED)) fuzz.sh" \
		kmemleak.sh

demo: deps all
	@tools/dev/demo.sh

# The fuzz targets (selftests/fuzz), FUZZ_SECONDS (300) each; make check
# runs them a few seconds each.
FUZZ_SECONDS ?= 300
fuzz:
	@$(MAKE) -s -C selftests/fuzz BUILD=$(BUILD) -j2
	@$(MAKE) -s -C selftests/fuzz BUILD=$(BUILD) run FUZZ_SECONDS=$(FUZZ_SECONDS)

# The benchmarks (not in make check): vt_bench, the module against a
# userspace relay on the same ring, in a host VM on each kernel; many
# devices at once (vt_scale, newest kernel); then the
# transports side by side (selftests/vm/bench_transports.py) in one host VM
# on the newest kernel with one nested guest, and a second one under stock
# QEMU 10.0 for the vDPA front end (kernels with vDPA; tools/dev/stock-qemu.sh
# unpacks that QEMU). BENCH_ROUNDS, BENCH_SECONDS.
BENCH_ROUNDS ?= 5
BENCH_SECONDS ?= 6
# BENCH_ONLY=none,vtref,vsf: only those rows of bench-transports (a quick A/B)
BENCH_ONLY ?=
bench: deps all bench-tools
	@for k in $$(tools/dev/kernels.sh | awk '{print $$1}'); do \
		tools/dev/vmrun -k $$k -- selftests/vm/bench.sh || exit 1; \
	done
	@$(MAKE) -s bench-scale
	@$(MAKE) -s bench-transports

# Many devices at once (selftests/vm/bench_scale.sh), on the newest kernel.
SCALE_DEVS ?= 1,16,64
SCALE_PORTS ?= 8
SCALE_SECONDS ?= 5
bench-scale: selftests
	@tools/dev/vmrun -k $$(tools/dev/kernels.sh | awk 'END {print $$1}') \
		-- env SCALE_DEVS=$(SCALE_DEVS) SCALE_PORTS=$(SCALE_PORTS) \
		SCALE_SECONDS=$(SCALE_SECONDS) selftests/vm/bench_scale.sh

bench-transports: bench-tools
	@tools/dev/stock-qemu.sh $(BUILD)
	@tools/dev/vmrun -k $$(tools/dev/kernels.sh | awk 'END {print $$1}') \
		-t 1500 -- env BENCH_ROUNDS=$(BENCH_ROUNDS) \
		BENCH_SECONDS=$(BENCH_SECONDS) BENCH_ONLY=$(BENCH_ONLY) \
		selftests/vm/bench_transports.sh

# The guest side of the transport benchmark, and upstream virtio-trace's
# trace-agent built from linux-source with its EAGAIN fix (both static).
BENCH_LINUX_SRC = /usr/src/linux-source-$(lastword $(shell tools/dev/kernels.sh)).tar.xz
bench-tools: $(BUILD)/bench/vt-benchg $(BUILD)/bench/virtio-trace-agent

$(BUILD)/bench/vt-benchg: selftests/vm/bench/vt-benchg.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -static -o $@ $<

$(BUILD)/bench/virtio-trace-agent: $(BENCH_LINUX_SRC) \
		selftests/vm/bench/virtio-trace-eagain.patch
	@rm -rf $(BUILD)/bench/linux && mkdir -p $(BUILD)/bench/linux
	tar -xJf $(BENCH_LINUX_SRC) -C $(BUILD)/bench/linux --strip-components=1 \
		--wildcards '*/tools/virtio/virtio-trace/*'
	patch -s -d $(BUILD)/bench/linux -p1 < selftests/vm/bench/virtio-trace-eagain.patch
	cd $(BUILD)/bench/linux/tools/virtio/virtio-trace && \
		$(CC) -O2 -Wall -pthread -static -o $@ trace-agent.c \
		trace-agent-ctl.c trace-agent-rw.c

# LINUX_VERSION_CODE is how an out-of-tree module knows its kernel: allowed.
# The uapi header is checked without --strict: BIT() is not for uapi.
CHECKPATCH = $(BUILD)/linux-src/$(lastword $(shell tools/dev/kernels.sh))/scripts/checkpatch.pl \
	--no-tree --ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,LINUX_VERSION_CODE -f
checkpatch:
	@$(CHECKPATCH) --strict vhost-trace/*.c vhost-trace/*.h
	@$(CHECKPATCH) vhost-trace/uapi/linux/*.h

clean:
	rm -rf $(BUILD)

# Installation. The system's integration directories (udev, systemd,
# sysusers.d, modules-load.d) are where udev and systemd look, whatever
# PREFIX is (systemd reads /usr/local/lib/systemd/system too; udev reads
# no /usr/local directory). Override them on the command line if needed.
VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/vhost-trace
pkgvar = $(or $(shell pkg-config --variable=$(2) $(1) 2>/dev/null),$(3))
UDEVRULESDIR ?= $(call pkgvar,udev,udevdir,/usr/lib/udev)/rules.d
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),$(call pkgvar,systemd,systemdsystemunitdir,/usr/lib/systemd/system),$(PREFIX)/lib/systemd/system)
SYSUSERSDIR ?= $(call pkgvar,systemd,sysusersdir,/usr/lib/sysusers.d)
MODULESLOADDIR ?= $(call pkgvar,systemd,modulesloaddir,/usr/lib/modules-load.d)
DKMSDIR ?= /usr/src/vhost-trace-$(VERSION)
INSTALL ?= install

install: libvt tracedat traced install-dkms
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(MODULESLOADDIR)
	$(INSTALL) -m 0755 $(BUILD)/tools/vhost-traced $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0755 $(BUILD)/tools/vhost-trace \
		$(BUILD)/tracedat/vhost-trace-dat $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 tools/man/vhost-trace.1 tools/man/vhost-trace-dat.1 \
		$(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 tools/man/vhost-traced.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 packaging/udev/60-vhost-trace.rules \
		$(DESTDIR)$(UDEVRULESDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/systemd/vhost-traced.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/vhost-traced.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/vhost-traced.service
	$(INSTALL) -m 0644 packaging/sysusers.conf \
		$(DESTDIR)$(SYSUSERSDIR)/vhost-trace.conf
	$(INSTALL) -m 0644 packaging/modules-load.conf \
		$(DESTDIR)$(MODULESLOADDIR)/vhost-trace.conf
	@echo "installed; as root: systemd-sysusers vhost-trace.conf;" \
		"dkms install vhost-trace/$(VERSION); modprobe vhost_trace;" \
		"systemctl daemon-reload; systemctl enable --now vhost-traced"

# The module's source where DKMS takes it (dkms add vhost-trace/VERSION).
install-dkms:
	$(INSTALL) -d $(DESTDIR)$(DKMSDIR)/vhost-trace/uapi/linux
	$(INSTALL) -m 0644 Kbuild $(DESTDIR)$(DKMSDIR)/
	$(INSTALL) -m 0644 vhost-trace/Kbuild vhost-trace/*.[ch] \
		$(DESTDIR)$(DKMSDIR)/vhost-trace/
	$(INSTALL) -m 0644 vhost-trace/uapi/linux/vhost_trace.h \
		$(DESTDIR)$(DKMSDIR)/vhost-trace/uapi/linux/
	sed 's|@VERSION@|$(VERSION)|g' packaging/dkms/dkms-build.sh \
		> $(DESTDIR)$(DKMSDIR)/dkms-build.sh
	sed 's|@VERSION@|$(VERSION)|g' packaging/dkms/dkms.conf.in \
		> $(DESTDIR)$(DKMSDIR)/dkms.conf
	chmod 0755 $(DESTDIR)$(DKMSDIR)/dkms-build.sh
	chmod 0644 $(DESTDIR)$(DKMSDIR)/dkms.conf

# The guest agent (in the guest): binary, man page, unit, udev rule.
install-agent: guest
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 0755 $(BUILD)/guest/trace-agent $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 tools/man/trace-agent.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 packaging/udev/60-trace-agent.rules \
		$(DESTDIR)$(UDEVRULESDIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/systemd/trace-agent.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/trace-agent.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/trace-agent.service

# Debian packages (packaging/debian, debhelper): vhost-trace,
# vhost-trace-dkms, vhost-trace-agent, and vhost-trace-qemu when
# $(BUILD)/qemu/full is built (make qemu). Output: $(BUILD)/deb/*.deb.
deb:
	@packaging/deb.sh $(BUILD)
