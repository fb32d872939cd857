using System;
using System.Runtime.InteropServices;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Emulation
{
    /// <summary>Whether QEMU can use KVM here, and why not.</summary>
    internal readonly struct KvmAvailability
    {
        public KvmAvailability(bool usable, string reason)
        {
            Usable = usable;
            Reason = reason;
        }

        public bool Usable { get; }

        public string Reason { get; }

        public override string ToString() => (Usable ? "KVM usable: " : "KVM not usable: ") + Reason;
    }

    /// <summary>
    /// Decides KVM or TCG for the rehearsal (issue 22). /dev/kvm existing is not enough: in containers it is
    /// often present without access, or a stub; QEMU then fails at start ("Could not access KVM kernel module").
    /// The device is opened read-write as QEMU opens it and asked KVM_GET_API_VERSION, which must answer 12
    /// (the stable API since Linux 2.6.22, the only one QEMU accepts).
    /// </summary>
    internal static class KvmProbe
    {
        public const string DefaultDevice = "/dev/kvm";
        private const int KvmApiVersion = 12;
        private const ulong KvmGetApiVersion = 0xAE00; // _IO(KVMIO 0xAE, 0x00), linux/kvm.h

        /// <summary>Probes <paramref name="device"/> (default /dev/kvm); never throws.</summary>
        public static KvmAvailability Probe(string device = DefaultDevice)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            {
                return new KvmAvailability(false, "KVM exists only on Linux hosts.");
            }
            int fd;
            int errno;
            try
            {
                fd = UnixFileApi.OpenDescriptor(device, UnixFileApi.OpenReadWrite | UnixFileApi.OpenCloseOnExec, out errno);
            }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException)
            {
                return new KvmAvailability(false, "the C library could not be called to open " + device + ".");
            }
            if (fd < 0)
            {
                return new KvmAvailability(false, errno switch
                {
                    2 => device + " does not exist (no KVM module loaded, or no nested virtualization for this VM).",
                    13 => device + " exists but this user may not open it (add the user to the kvm group).",
                    1 => device + " exists but opening it is not permitted.",
                    21 => device + " is a directory, not the KVM device.",
                    _ => device + " could not be opened (errno " + errno + ").",
                });
            }
            try
            {
                int version = UnixFileApi.IoctlNoArgument(fd, KvmGetApiVersion, out errno);
                if (version < 0)
                {
                    return new KvmAvailability(false, device + " opened but is not the KVM device (KVM_GET_API_VERSION failed, errno " + errno + ").");
                }
                return version == KvmApiVersion
                    ? new KvmAvailability(true, device + " opened read-write, KVM API version 12.")
                    : new KvmAvailability(false, device + " answers KVM API version " + version + ", QEMU needs 12.");
            }
            finally
            {
                UnixFileApi.CloseDescriptor(fd);
            }
        }

        /// <summary>The accelerator the rehearsal uses: TCG when asked, else KVM only when <paramref name="kvm"/> is usable.</summary>
        public static (bool Kvm, string Reason) Choose(bool noKvm, KvmAvailability kvm) =>
            noKvm ? (false, "TCG: KVM not wanted (-NoKvm / --no-kvm).")
            : kvm.Usable ? (true, "KVM: " + kvm.Reason)
            : (false, "TCG (software emulation, several times slower): " + kvm.Reason);
    }
}
