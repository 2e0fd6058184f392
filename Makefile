# SPDX-License-Identifier: GPL-2.0
#
# make            build kclusterip.ko (against KDIR) and kcipctl
# make check      run the selftests in a QEMU guest booting Debian's kernel
# make demo       a client, a node and three HTTP backends, in the guest
# make install    module to /lib/modules/$KVER/updates (+depmod), kcipctl to
#                 /usr/local/sbin

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

install: module-install
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

style:
	$(CHECKPATCH) --no-tree --strict --show-types -f $(filter-out %.mod.c,$(wildcard kmod/*.[ch])) uapi/linux/kclusterip.h

check-spec:
	python3 scripts/check-spec.py

check: all selftests-build check-spec
	selftests/vm/deps.sh
	selftests/vm/run.sh

demo: all
	selftests/vm/deps.sh
	selftests/vm/run.sh --cmd 'selftests/demo.sh'

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C userspace clean
	-$(MAKE) -C selftests clean

.PHONY: check-spec all module module-debug kcipctl selftests-build module-install install style check demo clean
