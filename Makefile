# SPDX-License-Identifier: GPL-2.0
#
# make            build kclusterip.ko (against KDIR) and kcipctl
# make check      run the selftests in a QEMU guest booting Debian's kernel
# make demo       a client, a node and three HTTP backends, in the guest
# make bench      kclusterip vs kube-proxy's iptables/nftables/IPVS, in the
#                 guest (BENCH_QUICK=1, BENCH_SIZES=...; bench/bench.sh)
# make install    module to /lib/modules/$KVER/updates (+depmod), kcipctl to
#                 /usr/local/sbin, its man page and bash completion
# make dkms-install / dkms-uninstall   sources to /usr/src/kclusterip-VERSION
#                 and `dkms add` / `dkms remove`
# make check-dkms the suite in the guest with the module DKMS built
# make deb        Debian packages kclusterip-dkms and kcipctl, in out/deb
# make check-version / check-docs      versions agree; the .rst files parse

KVER_RUNNING := $(shell uname -r)
ifeq ($(KDIR),)
ifneq ($(wildcard /lib/modules/$(KVER_RUNNING)/build),)
KDIR := /lib/modules/$(KVER_RUNNING)/build
else
# no headers for the running kernel (a build host, a VM harness): the
# newest installed ones
KDIR := $(lastword $(sort $(wildcard /lib/modules/*/build)))
$(info kclusterip: no headers for the running kernel $(KVER_RUNNING); using KDIR=$(KDIR))
endif
endif
KVER ?= $(notdir $(patsubst %/build,%,$(KDIR)))
ifeq ($(KVER),build)
KVER := $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)
endif

PREFIX ?= /usr/local
DESTDIR ?=
CHECKPATCH ?= $(firstword $(wildcard $(KDIR)/scripts/checkpatch.pl) \
	$(wildcard /work/src/linux-source-6.1/scripts/checkpatch.pl) \
	$(wildcard /usr/src/linux-source-*/scripts/checkpatch.pl) checkpatch.pl)

all: module kcipctl

module:
	@test -d "$(KDIR)" || { echo "kclusterip: no kernel build dir (KDIR=$(KDIR)); install linux-headers-amd64" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-debug:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 modules

kcipctl:
	$(MAKE) -C userspace

selftests-build:
	$(MAKE) -C selftests

module-install: module
	install -D -m 0644 kmod/kclusterip.ko $(DESTDIR)/lib/modules/$(KVER)/updates/kclusterip.ko
	test -n "$(DESTDIR)" || depmod -a $(KVER)

install: module-install install-completion
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

style:
	$(CHECKPATCH) --no-tree --strict --show-types -f $(filter-out %.mod.c,$(wildcard kmod/*.[ch])) uapi/linux/kclusterip.h

# Debian's python3, where python3-yaml installs; another first in PATH may
# lack it
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)

check-spec:
	$(PYTHON) scripts/check-spec.py

# deps first: a fresh machine gets the kernel headers before the build.
# make check TESTS="clusterip_udp.sh bad_input.sh" runs a subset.
check:
	selftests/vm/deps.sh
	$(MAKE) all selftests-build check-spec check-version check-docs
	selftests/vm/run.sh $(TESTS)

# The suite on a debug kernel (KASAN, kmemleak, lockdep...), built once per
# machine and cached: see selftests/debug/check.sh.
check-debug:
	selftests/vm/deps.sh
	selftests/debug/check.sh $(TESTS)

demo: all
	selftests/vm/deps.sh
	selftests/vm/run.sh --cmd 'selftests/demo.sh'

bench:
	selftests/vm/deps.sh
	bench/bench.sh

.PHONY: bench

# ------------------------------------------------------------ packaging

KCIP_VERSION := $(shell cat $(CURDIR)/VERSION)
DKMS_SRC = $(DESTDIR)/usr/src/kclusterip-$(KCIP_VERSION)
# what DKMS needs to build the module, and nothing else
DKMS_FILES = Kbuild VERSION dkms.conf uapi/linux/kclusterip.h kmod/Kbuild \
	$(filter-out %.mod.c,$(wildcard kmod/*.[ch]))
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DEB_OUT ?= out/deb

check-version:
	scripts/check-version.sh

dkms-install: check-version
	rm -rf $(DKMS_SRC)
	for f in $(DKMS_FILES); do install -D -m 0644 $$f $(DKMS_SRC)/$$f || exit 1; done
	test -n "$(DESTDIR)" || dkms status -m kclusterip -v $(KCIP_VERSION) | grep -q . || \
		dkms add -m kclusterip -v $(KCIP_VERSION)

dkms-uninstall:
	-dkms remove -m kclusterip -v $(KCIP_VERSION) --all
	rm -rf $(DKMS_SRC)

check-dkms: kcipctl selftests-build
	selftests/vm/deps.sh
	scripts/check-dkms.sh $(TESTS)

install-completion:
	install -D -m 0644 userspace/kcipctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/kcipctl

DEB_CHANGES = kclusterip_$(KCIP_VERSION)_$(shell dpkg --print-architecture 2>/dev/null).changes

deb: check-version
	dpkg-buildpackage -us -uc -b
	mkdir -p $(DEB_OUT)
	test -e $(DEB_OUT)/.gitignore || echo '*' >$(DEB_OUT)/.gitignore
	cd .. && mv $$(sed -n '/^Files:/,/^[^ ]/{/^ /s/.* //p}' $(DEB_CHANGES)) $(DEB_CHANGES) $(abspath $(DEB_OUT))/
	@ls -l $(DEB_OUT)

check-docs:
	@if ! command -v rst2html >/dev/null; then \
		echo "check-docs: rst2html not found (apt-get install python3-docutils): skipped"; exit 0; fi; \
	for f in README.rst Documentation/*.rst; do \
		echo "rst2html --halt=warning $$f"; \
		rst2html --halt=warning --report=warning $$f >/dev/null || exit 1; done
	@if command -v groff >/dev/null; then \
		echo "groff -man -ww -z userspace/kcipctl.8"; \
		out=$$(LC_ALL=C groff -man -ww -z userspace/kcipctl.8 2>&1); \
		test -z "$$out" || { echo "$$out"; exit 1; }; fi
	$(PYTHON) scripts/check-docs-spec.py

.PHONY: check-version dkms-install dkms-uninstall check-dkms install-completion deb check-docs

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace clean
	-$(MAKE) -C selftests clean

.PHONY: check-debug check-spec all module module-debug kcipctl selftests-build module-install install style check demo clean
