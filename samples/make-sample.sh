#!/usr/bin/env bash
# Rebuilds samples/sample.vhd: a small dynamic VHD (as qemu-img makes them, size from CHS, not a
# whole MiB) holding a GPT disk with a BIOS boot partition and an ext4 root with a Debian-12-shaped
# tree: the files the readiness rules read (kernel, its config and modules, a zstd cpio initrd, ELF
# headers for /bin/sh and sshd, ssh, ifupdown + dhclient, curl, grub, sudoers, accounts, machine-id,
# host keys), no real binaries. It is deliberately not Azure-ready in the ways `azlinux fix` repairs
# offline (quiet and no console= on the command line, no DHCP stanza for eth0, swap in fstab,
# Defaults targetpw, no ClientAliveInterval) and has no provisioning agent (`azlinux agentless`
# installs the reporter unit), and it carries build-VM state (machine-id, host keys, a DHCP lease,
# a password hash, shell history) for `azlinux generalize` to remove.
# Needs qemu-utils, gdisk, e2fsprogs, cpio, zstd. No mounts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
kver=6.1.0-28-amd64
uuid=2f1c7d7e-35a4-4d3e-9d3b-6f1f0c2a9b11
export SOURCE_DATE_EPOCH=1700000000

# A 64-byte ELF header: ELFCLASS64, little-endian, ET_DYN, e_machine 62 (x86-64); not a program.
elf() { printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000\076\000\001\000\000\000' >"$1"; head -c 40 /dev/zero >>"$1"; chmod 755 "$1"; }

mkdir -p "$root"/{etc/default,etc/ssh,etc/network,etc/sudoers.d,etc/systemd/system/multi-user.target.wants,etc/modprobe.d} \
    "$root"/{boot/grub,usr/bin,usr/sbin,usr/lib/systemd/system,var/lib/dbus,var/lib/dhcp,root,home/debian,tmp,run,proc,sys,dev}
ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"; ln -s usr/lib "$root/lib"; ln -s usr/lib "$root/lib64"
chmod 1777 "$root/tmp"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n' >"$root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$root/etc/os-release"
echo 12.8 >"$root/etc/debian_version"
echo sample >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsample\n' >"$root/etc/hosts"

# Binaries: ELF headers where the rules read the architecture, empty executables elsewhere.
elf "$root/usr/bin/dash"; ln -s dash "$root/usr/bin/sh"; elf "$root/usr/bin/bash"; elf "$root/usr/bin/ls"
elf "$root/usr/sbin/sshd"; elf "$root/usr/sbin/dhclient"; elf "$root/usr/sbin/ifup"; elf "$root/usr/sbin/ifdown"
elf "$root/usr/bin/curl"; elf "$root/usr/bin/sudo"; elf "$root/usr/bin/systemctl"; elf "$root/usr/bin/ssh-keygen"
mkdir -p "$root/usr/lib/systemd"; elf "$root/usr/lib/systemd/systemd"; ln -s ../lib/systemd/systemd "$root/usr/sbin/init"

# Accounts: root locked, a build user with a usable hash and shell history.
printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\ndebian:x:1000:1000:Debian:/home/debian:/bin/bash\n' >"$root/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\nsudo:x:27:debian\ndebian:x:1000:\n' >"$root/etc/group"
printf 'root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\nsshd:!:19700::::::\ndebian:$6$sample$3Fqk6rYv1QmWJ0bX2k0o8yqkXw2v0p3F1m7m9c2x0d5oJb7x9J5rTn0pQy8dYt4lZl8o5iU7yGm3V2x1cB6w0:19700:0:99999:7:::\n' >"$root/etc/shadow"
chmod 640 "$root/etc/shadow"
for i in $(seq 1 60); do echo "sudo apt-get install -y some-package-$i # build step"; done >"$root/home/debian/.bash_history"

# sudo: targetpw (every user types root's password) is what Azure's provisioned users cannot do.
printf 'Defaults\tenv_reset\nDefaults\ttargetpw\nDefaults\tsecure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\nroot\tALL=(ALL:ALL) ALL\n%%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n' >"$root/etc/sudoers"
chmod 440 "$root/etc/sudoers"

# Identity of the build VM.
echo 4c1d2e3f5a6b7c8d9e0f1a2b3c4d5e6f >"$root/etc/machine-id"
ln -s /etc/machine-id "$root/var/lib/dbus/machine-id"
printf 'lease {\n  interface "ens3";\n  fixed-address 192.168.122.50;\n}\n' >"$root/var/lib/dhcp/dhclient.ens3.leases"

# OpenSSH server, enabled, with host keys made on the build VM.
printf 'Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\n' >"$root/etc/ssh/sshd_config"
mkdir -p "$root/etc/ssh/sshd_config.d"
ssh-keygen -q -t ed25519 -N '' -C root@sample -f "$root/etc/ssh/ssh_host_ed25519_key"
printf '[Unit]\nDescription=OpenBSD Secure Shell server\nAfter=network.target auditd.service\n\n[Service]\nExecStartPre=/usr/sbin/sshd -t\nExecStart=/usr/sbin/sshd -D $SSHD_OPTS\nType=notify\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n' >"$root/usr/lib/systemd/system/ssh.service"
ln -s /lib/systemd/system/ssh.service "$root/etc/systemd/system/multi-user.target.wants/ssh.service"
ln -s /lib/systemd/system/ssh.service "$root/etc/systemd/system/sshd.service"

# ifupdown with isc-dhcp-client; only lo is configured (the build VM's NIC came from elsewhere).
printf 'source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n' >"$root/etc/network/interfaces"
mkdir -p "$root/etc/network/interfaces.d"
printf '[Unit]\nDescription=Raise network interfaces\n\n[Service]\nType=oneshot\nExecStart=/sbin/ifup -a --read-environment\nRemainAfterExit=true\n\n[Install]\nWantedBy=multi-user.target\n' >"$root/usr/lib/systemd/system/networking.service"
ln -s /lib/systemd/system/networking.service "$root/etc/systemd/system/multi-user.target.wants/networking.service"

# Swap on the OS disk, as installers make it.
printf '# /etc/fstab: static file system information.\nUUID=%s / ext4 errors=remount-ro 0 1\n/swapfile none swap sw 0 0\n' "$uuid" >"$root/etc/fstab"

# Kernel: Debian 12's 6.1 with the Hyper-V, NVMe and UDF drivers as modules.
m=$root/usr/lib/modules/$kver
mods="kernel/drivers/hv/hv_vmbus.ko kernel/drivers/hv/hv_utils.ko kernel/drivers/scsi/hv_storvsc.ko kernel/drivers/net/hyperv/hv_netvsc.ko
kernel/drivers/input/serio/hyperv-keyboard.ko kernel/drivers/nvme/host/nvme-core.ko kernel/drivers/nvme/host/nvme.ko
kernel/fs/udf/udf.ko kernel/drivers/net/ethernet/microsoft/mana/mana.ko kernel/drivers/scsi/scsi_transport_fc.ko"
for f in $mods; do mkdir -p "$m/$(dirname "$f")"; printf '\177ELF\002\001\001' >"$m/$f"; done
printf '%s\n' $mods >"$m/modules.order"
printf 'kernel/drivers/hv/hv_vmbus.ko:\nkernel/drivers/hv/hv_utils.ko: kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/scsi/hv_storvsc.ko: kernel/drivers/scsi/scsi_transport_fc.ko kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/net/hyperv/hv_netvsc.ko: kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/input/serio/hyperv-keyboard.ko: kernel/drivers/hv/hv_vmbus.ko\nkernel/drivers/nvme/host/nvme-core.ko:\nkernel/drivers/nvme/host/nvme.ko: kernel/drivers/nvme/host/nvme-core.ko\nkernel/fs/udf/udf.ko:\nkernel/drivers/net/ethernet/microsoft/mana/mana.ko:\nkernel/drivers/scsi/scsi_transport_fc.ko:\n' >"$m/modules.dep"
printf 'kernel/fs/ext4/ext4.ko\nkernel/drivers/ata/ata_piix.ko\n' >"$m/modules.builtin"
printf 'CONFIG_X86_64=y\nCONFIG_EARLY_PRINTK=y\nCONFIG_NUMA=y\nCONFIG_EXT4_FS=y\nCONFIG_ATA_PIIX=y\nCONFIG_HYPERVISOR_GUEST=y\nCONFIG_HYPERV=m\nCONFIG_HYPERV_UTILS=m\nCONFIG_HYPERV_STORAGE=m\nCONFIG_HYPERV_NET=m\nCONFIG_HYPERV_KEYBOARD=m\nCONFIG_BLK_DEV_NVME=m\nCONFIG_NVME_CORE=m\nCONFIG_UDF_FS=m\nCONFIG_MICROSOFT_MANA=m\nCONFIG_RD_ZSTD=y\n' >"$root/boot/config-$kver"
printf 'ELF-less placeholder for vmlinuz %s\n' "$kver" >"$root/boot/vmlinuz-$kver"
printf 'System.map placeholder\n' >"$root/boot/System.map-$kver"
ln -s boot/vmlinuz-$kver "$root/vmlinuz"; ln -s boot/initrd.img-$kver "$root/initrd.img"

# initramfs-tools' initrd (zstd cpio): the storage drivers, and an /init that reads the command line.
ird=$work/initrd
mkdir -p "$ird"/{scripts/local-top,conf,bin}
for f in kernel/drivers/hv/hv_vmbus.ko kernel/drivers/scsi/hv_storvsc.ko kernel/drivers/net/hyperv/hv_netvsc.ko kernel/drivers/scsi/scsi_transport_fc.ko kernel/drivers/nvme/host/nvme-core.ko kernel/drivers/nvme/host/nvme.ko; do
    mkdir -p "$ird/usr/lib/modules/$kver/$(dirname "$f")"; cp "$m/$f" "$ird/usr/lib/modules/$kver/$f"
done
cp "$m/modules.dep" "$m/modules.order" "$m/modules.builtin" "$ird/usr/lib/modules/$kver/"
printf '#!/bin/sh\n# init: mount /proc, read the command line, find the root, switch_root\nfor x in $(cat /proc/cmdline); do\n\tcase $x in\n\troot=*) ROOT=${x#root=} ;;\n\tesac\ndone\n. /scripts/local\nmountroot\nexec run-init ${rootmnt} /sbin/init "$@"\n' >"$ird/init"
chmod 755 "$ird/init"
printf 'MODULES=most\nBUSYBOX=auto\nCOMPRESS=zstd\n' >"$ird/conf/initramfs.conf"
cp "$root/usr/bin/dash" "$ird/bin/sh"
(cd "$ird" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) | zstd -q -19 >"$root/boot/initrd.img-$kver"

# GRUB: Debian's defaults (quiet) and a grub.cfg generated from them.
printf 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n' >"$root/etc/default/grub"
cat >"$root/boot/grub/grub.cfg" <<CFG
#
# DO NOT EDIT THIS FILE
#
# It is automatically generated by grub-mkconfig using templates
# from /etc/grub.d and settings from /etc/default/grub
#
set default="0"
set timeout=5
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os \$menuentry_id_option 'gnulinux-simple-$uuid' {
	insmod part_gpt
	insmod ext2
	search --no-floppy --fs-uuid --set=root $uuid
	echo	'Loading Linux $kver ...'
	linux	/boot/vmlinuz-$kver root=UUID=$uuid ro  quiet
	echo	'Loading initial ramdisk ...'
	initrd	/boot/initrd.img-$kver
}
CFG

truncate -s 40M "$work/disk.raw"
sgdisk -o -a 2048 -n 1:2048:+1M -t 1:EF02 -c 1:bios-boot -n 2:0:0 -t 2:8300 -c 2:rootfs "$work/disk.raw" >/dev/null
start=$(sgdisk -i 2 "$work/disk.raw" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
end=$(sgdisk -i 2 "$work/disk.raw" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
truncate -s $(((end - start + 1) * 512)) "$work/root.img"
mkfs.ext4 -q -F -b 4096 -N 1024 -J size=4 -L rootfs -U "$uuid" -E root_owner=0:0 -d "$root" "$work/root.img"
dd if="$work/root.img" of="$work/disk.raw" bs=512 seek="$start" conv=notrunc,sparse status=none
rm -f "$here/sample.vhd"
qemu-img convert -f raw -O vpc "$work/disk.raw" "$here/sample.vhd"
echo "$here/sample.vhd: $(qemu-img info --output=json "$here/sample.vhd" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])') bytes virtual, $(stat -c %s "$here/sample.vhd") bytes on disk"
