#!/usr/bin/env bash
# Rebuilds samples/sample.vhd: a small dynamic VHD (as qemu-img makes them, size from CHS, not a
# whole MiB) holding a GPT disk with a BIOS boot partition and an ext4 root with a minimal Linux tree.
# Needs qemu-utils, gdisk, e2fsprogs. No mounts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{etc/default,boot/grub,usr/lib,usr/bin,var/lib/waagent}
ln -s usr/bin "$root/bin"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' >"$root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$root/etc/os-release"
echo 'UUID=2f1c7d7e-35a4-4d3e-9d3b-6f1f0c2a9b11 / ext4 errors=remount-ro 0 1' >"$root/etc/fstab"
echo sample >"$root/etc/hostname"
printf 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n' >"$root/etc/default/grub"
printf 'Provisioning.Agent=auto\nResourceDisk.Format=y\nResourceDisk.EnableSwap=n\n' >"$root/etc/waagent.conf"
truncate -s 40M "$work/disk.raw"
sgdisk -o -a 2048 -n 1:2048:+1M -t 1:EF02 -c 1:bios-boot -n 2:0:0 -t 2:8300 -c 2:rootfs "$work/disk.raw" >/dev/null
start=$(sgdisk -i 2 "$work/disk.raw" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
end=$(sgdisk -i 2 "$work/disk.raw" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
truncate -s $(((end - start + 1) * 512)) "$work/root.img"
mkfs.ext4 -q -F -L rootfs -U 2f1c7d7e-35a4-4d3e-9d3b-6f1f0c2a9b11 -E root_owner=0:0 -d "$root" "$work/root.img"
dd if="$work/root.img" of="$work/disk.raw" bs=512 seek="$start" conv=notrunc,sparse status=none
rm -f "$here/sample.vhd"
qemu-img convert -f raw -O vpc "$work/disk.raw" "$here/sample.vhd"
echo "$here/sample.vhd: $(qemu-img info --output=json "$here/sample.vhd" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])') bytes virtual"
