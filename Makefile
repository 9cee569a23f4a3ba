# viommu: an iommufd vIOMMU series for Linux 6.12 and the harness that
# proves it. See README.md.
#
# Every target below runs a script in scripts/; the scripts are idempotent
# and skip what is up to date, so the targets are phony.

S := scripts
# The stamp is keyed by deps/ and by the machine's own apt sources (whose
# Debian mirror deps.sh writes into viommu.sources), so a changed mirror is
# picked up.
APT_ETC := $(filter-out %/viommu.sources,$(wildcard /etc/apt/sources.list \
	/etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list))
DEPS := build/.deps-$(shell cat deps/* $(APT_ETC) | sha256sum | cut -c1-12)

.PHONY: all deps tree qemu kernel check check-debug check-64k fuzz-long run bench \
	export lint bisect-check clean help

all: check

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## deps          install the build and test dependencies through apt (idempotent)
deps: $(DEPS)
$(DEPS):
	$(S)/deps.sh
	@mkdir -p build && rm -f build/.deps-* && touch $@

## tree          build/linux and build/qemu: the pinned bases + patches/
tree: $(DEPS)
	$(S)/tree.sh linux
	$(S)/tree.sh qemu

## qemu          build QEMU (cached outside the repo, keyed by version + patches)
qemu: $(DEPS)
	bash -c '. $(S)/common.sh && qemu_binary' >/dev/null

## kernel        build the arm64 Image and the iommu kselftests
kernel: $(DEPS)
	$(S)/kernel-build.sh

## check         run every test in VMs; ends with "N passed, N failed"
check: kernel qemu
	$(S)/check.sh tests/harness.plan tests/check.plan tests/e2e.plan tests/nested.plan \
		tests/cmdqv-host.plan tests/fuzz.plan tests/realvmm.plan

## check-debug   the same tests on a KASAN/lockdep/kmemleak/UBSAN kernel
check-debug: kernel qemu
	$(S)/kernel-build.sh debug
	$(S)/check.sh -k debug tests/check.plan tests/e2e.plan tests/nested.plan \
		tests/cmdqv-host.plan tests/fuzz.plan tests/race.plan tests/realvmm.plan

## check-64k     the mock selftests and the e2e tests on a 64K-page kernel, as
##               RHEL-style arm64 distributions build it
check-64k: kernel qemu
	$(S)/kernel-build.sh 64k
	$(S)/check.sh -k 64k tests/check.plan tests/e2e.plan tests/nested.plan \
		tests/cmdqv-host.plan

## fuzz-long     a fuzz campaign on the debug kernel (not in CI, about 1 h): the
##               fuzzer in every mode (mock, SMMUv3, Tegra241 CMDQV, each also
##               with fault injection) and the race tests, >= 10^6 operations,
##               with the QEMU trace checks and kmemleak at the end
fuzz-long: kernel qemu
	$(S)/kernel-build.sh debug
	$(S)/check.sh -k debug tests/fuzz-long.plan

## run           the vIOMMU demo: a reference VMM on the dual-SMMU VM, step by step,
##               then the real stack: Debian's QEMU 11.1 in the VM and its guest
run: kernel qemu
	$(S)/boot.sh tests/demo.plan
	$(S)/boot.sh tests/realvmm-demo.plan

## bench         invalidation benchmarks: the VM's own /dev/iommu, then the real VMM
##               (QEMU 11.1's guest: trapped, VCMDQ, no vSMMU): docs/bench.{md,json},
##               docs/bench-*.png and the README's table
bench: kernel qemu
	$(S)/check.sh tests/bench.plan tests/bench-realvmm.plan

## export        write build/linux and build/qemu back to patches/
export:
	$(S)/export.sh linux
	$(S)/export.sh qemu

## lint          checkpatch --strict, sparse, coccicheck, kernel-doc
lint: $(DEPS)
	$(S)/lint.sh

## bisect-check  build every commit of the series on its own
bisect-check: $(DEPS)
	$(S)/bisect-check.sh

## clean         remove build/ (the caches outside the repo stay)
clean:
	rm -rf build
