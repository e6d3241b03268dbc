#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# boot.sh KERNEL OUT.log [CMDS]: runs jitscope's live kernel mode inside a
# real Linux kernel under QEMU (TCG, no KVM needed), for kernels and
# architectures this machine does not run: KERNEL is arm64 (Debian's
# linux-image-6.1.0-50-arm64, -cpu max: PAC, LSE), arm64-a57 (the same under
# -cpu cortex-a57: no LSE, no PAC), arm64-bti (6.1 built with
# CONFIG_ARM64_BTI_KERNEL) or amd64 (Debian's x86-64 6.1).
#
# The initramfs holds jitscope cross-compiled for the guest (CGO_ENABLED=0),
# live/qemu/guest as /init, the kernel's .config at /boot/config, the BPF
# objects of live/testdata and testdata/captures-src/obj, and CMDS: a file
# of jitscope command lines, one per line (default: `kernel verify` of
# every built-in scenario and test object, then `kernel list`). The guest frames each command's output with
# JSQEMU BEGIN/END lines on its serial console, which is written to OUT.log,
# and powers off.
#
# The kernels are the ones the ground truth's QEMU scripts use
# (/work/shared/groundtruth/qemu: fetch_kernels.sh, build_kernel_arm64_bti.sh),
# unpacked under $KDIR/k-<arch> (default ~/.cache/jitscope-gt).
set -euo pipefail
K=${1:?usage: boot.sh arm64|arm64-a57|arm64-bti|amd64 OUT.log [CMDS]}
LOG=${2:?usage: boot.sh KERNEL OUT.log [CMDS]}
CMDS=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KDIR=${KDIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jitscope-gt}
case $K in
arm64) kd=k-arm64 goarch=arm64 cpu=max ;;
arm64-a57) kd=k-arm64 goarch=arm64 cpu=cortex-a57 ;;
arm64-bti) kd=k-arm64-bti goarch=arm64 cpu=max ;;
amd64) kd=k-amd64 goarch=amd64 cpu=max ;;
*) echo "boot.sh: unknown kernel $K (want arm64, arm64-a57, arm64-bti or amd64)" >&2; exit 1 ;;
esac
VMLINUZ=$(ls "$KDIR/$kd"/boot/vmlinuz-* 2>/dev/null | head -1)
CONFIG=$(ls "$KDIR/$kd"/boot/config-* 2>/dev/null | head -1)
if [ -z "$VMLINUZ" ] || [ -z "$CONFIG" ]; then
	echo "boot.sh: no kernel in $KDIR/$kd/boot (run /work/shared/groundtruth/qemu/fetch_kernels.sh)" >&2
	exit 1
fi
case $goarch in
arm64) QEMU=(qemu-system-aarch64 -M virt -cpu "$cpu") console=ttyAMA0 ;;
amd64) QEMU=(qemu-system-x86_64 -cpu "$cpu") console=ttyS0 ;;
esac
command -v "${QEMU[0]}" >/dev/null || { echo "boot.sh: ${QEMU[0]} is not installed (apt-get install qemu-system-arm qemu-system-x86)" >&2; exit 1; }

R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{dev,proc,sys,tmp,boot,obj}
(cd "$ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -trimpath -o "$R/jitscope" . &&
	CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -trimpath -o "$R/init" ./live/qemu/guest)
cp "$CONFIG" "$R/boot/config"
cp "$ROOT"/live/testdata/*.bpf.o "$ROOT"/testdata/captures-src/obj/*.bpf.o "$R/obj/"
if [ -n "$CMDS" ]; then
	cp "$CMDS" "$R/cmds"
else
	{
		(cd "$ROOT" && go run . list) | awk 'NR>1 && NF==0 {done=1} NR>1 && !done {print $1}' |
			while read -r s; do echo "kernel verify $s --config-file /boot/config"; done
		for o in "$R"/obj/*.bpf.o; do echo "kernel verify /obj/$(basename "$o") --config-file /boot/config"; done
		echo "kernel list"
	} > "$R/cmds"
fi
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 2>/dev/null | gzip -1) > "$R.cpio.gz"
trap 'rm -rf "$R" "$R.cpio.gz"' EXIT
timeout "${TIMEOUT:-1800}" "${QEMU[@]}" -smp 1 -m 2048 -kernel "$VMLINUZ" -initrd "$R.cpio.gz" \
	-append "console=$console panic=-1 nokaslr loglevel=4" \
	-display none -monitor none -serial "file:$LOG" -no-reboot
grep -c '^JSQEMU END' "$LOG" >/dev/null || { echo "boot.sh: the guest ran no command (see $LOG)" >&2; exit 1; }
