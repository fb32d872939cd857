using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using AzureLinuxImage.Errors;
using AzureLinuxImage.Operations;
using AzureLinuxImage.Tests.Infrastructure;
using Xunit;

namespace AzureLinuxImage.Tests.Rehearsal
{
    /// <summary>
    /// A 1 MiB raw disk whose MBR boot sector writes two lines to COM1 (port 0x3f8) and then either triple-faults (QEMU,
    /// run with -no-reboot, exits: the rehearsal's "QEMU exited" failure within a second) or halts for good. Real QEMU
    /// and SeaBIOS boot it; no Linux is needed to prove what happens to the serial console.
    /// </summary>
    internal static class BootSectorImage
    {
        public const string LineOne = "azlinux test boot sector: serial line one";
        public const string LineTwo = "line two, then the end";

        public static void Write(string path, bool tripleFault)
        {
            var code = new List<byte>
            {
                0xfa, 0x31, 0xc0, 0x8e, 0xd8,       // cli; xor ax,ax; mov ds,ax
                0xba, 0xf8, 0x03,                   // mov dx,0x3f8 (COM1)
                0xbe, 0x23, 0x7c,                   // mov si,0x7c23 (the message, offset 35)
                0xac, 0x84, 0xc0, 0x74, 0x03,       // next: lodsb; test al,al; jz end
                0xee, 0xeb, 0xf8,                   // out dx,al; jmp next
            };
            code.AddRange(tripleFault
                ? new byte[] { 0x0f, 0x01, 0x1e, 0x1d, 0x7c, 0xcd, 0x03, 0xf4, 0xeb, 0xfd } // end: lidt [0x7c1d] (limit 0); int 3: triple fault
                : new byte[] { 0xf4, 0xeb, 0xfd, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90 }); // end: hlt; jmp end
            code.AddRange(new byte[6]); // offset 29: the empty IDT descriptor
            code.AddRange(Encoding.ASCII.GetBytes(LineOne + "\r\n" + LineTwo + "\r\n\0"));
            var disk = new byte[1 << 20];
            code.CopyTo(disk);
            disk[510] = 0x55;
            disk[511] = 0xaa;
            File.WriteAllBytes(path, disk);
        }
    }

    /// <summary>
    /// -SerialLog / --serial-log (issue 22): the console goes to the user's file as the guest writes it, stays there when
    /// the boot fails, is named by ConsoleLog; an existing file is refused unless overwriting was asked for (-Force, the
    /// module's convention for every destination), and the image can never be the log.
    /// </summary>
    public class SerialLogTests
    {
        private sealed class WatchingContext : IOperationContext
        {
            private readonly CancellationTokenSource cancel = new CancellationTokenSource();
            private readonly Func<string, bool> stopWhen;

            public WatchingContext(Func<string, bool> stopWhen)
            {
                this.stopWhen = stopWhen;
            }

            public List<string> Messages { get; } = new List<string>();
            public CancellationToken Cancellation => cancel.Token;
            public bool ShouldProcess(string target, string action) => true;
            public void Progress(string activity, string status, long done, long total) { }
            public void Warning(string message) => Messages.Add(message);

            public void Verbose(string message)
            {
                Messages.Add(message);
                if (stopWhen(message))
                {
                    cancel.Cancel();
                }
            }
        }

        private static void RequireQemu()
        {
            ExternalTool.Require("qemu-system-x86_64", "qemu-system-x86");
            ExternalTool.Require("qemu-img", "qemu-utils");
        }

        [Fact]
        public void TheSerialLogIsKeptWhenTheBootFailsAndNamedInTheResult()
        {
            RequireQemu();
            using var dir = new TempDirectory();
            BootSectorImage.Write(dir.File("disk.raw"), tripleFault: true);
            byte[] before = File.ReadAllBytes(dir.File("disk.raw"));
            var context = new SilentContext();
            ProvisioningRehearsal r = TestAzureProvisioning.Run(new RehearsalOptions
            {
                ImagePath = dir.File("disk.raw"),
                NoKvm = true,
                Timeout = TimeSpan.FromMinutes(2),
                SerialLog = dir.File("console.log"),
                CustomData = Encoding.UTF8.GetBytes("echo hi"),
            }, context);

            Assert.False(r.Ready);
            Assert.StartsWith("QEMU exited", r.Failure);
            Assert.Equal(dir.File("console.log"), r.ConsoleLog);
            string log = File.ReadAllText(dir.File("console.log"));
            Assert.Contains(BootSectorImage.LineOne + "\r\n" + BootSectorImage.LineTwo, log);
            Assert.Equal(new[] { BootSectorImage.LineOne, BootSectorImage.LineTwo }, r.LastConsoleLines.TakeLast(2));
            Assert.False(r.CustomDataWritten); // given, and nothing in the guest wrote it (no Linux at all)
            Assert.Null(r.CustomDataFile);
            Assert.Equal(before, File.ReadAllBytes(dir.File("disk.raw")));
        }

        /// <summary>The file fills while the VM still runs (tail -f): read while the guest sits halted, before any power-off.</summary>
        [Fact]
        public void TheSerialLogFillsWhileTheVmRuns()
        {
            RequireQemu();
            using var dir = new TempDirectory();
            BootSectorImage.Write(dir.File("disk.raw"), tripleFault: false);
            string seenWhileRunning = string.Empty;
            var context = new WatchingContext(m =>
            {
                if (m == "console: " + BootSectorImage.LineTwo)
                {
                    seenWhileRunning = File.ReadAllText(dir.File("console.log"));
                    return true; // cancel: the rehearsal stops QEMU without waiting for a power-off
                }
                return false;
            });
            Assert.Throws<OperationCanceledException>(() => TestAzureProvisioning.Run(new RehearsalOptions
            {
                ImagePath = dir.File("disk.raw"),
                NoKvm = true,
                Timeout = TimeSpan.FromMinutes(2),
                SerialLog = dir.File("console.log"),
            }, context));
            Assert.Contains(BootSectorImage.LineOne + "\r\n" + BootSectorImage.LineTwo + "\r\n", seenWhileRunning);
            Assert.Contains(BootSectorImage.LineTwo, File.ReadAllText(dir.File("console.log"))); // and still there after
        }

        [Fact]
        public void AnExistingSerialLogIsRefusedUnlessOverwriteIsAsked()
        {
            RequireQemu();
            using var dir = new TempDirectory();
            BootSectorImage.Write(dir.File("disk.raw"), tripleFault: true);
            File.WriteAllText(dir.File("console.log"), "keep me");
            var options = new RehearsalOptions { ImagePath = dir.File("disk.raw"), NoKvm = true, Timeout = TimeSpan.FromMinutes(2), SerialLog = dir.File("console.log") };

            var e = Assert.Throws<AzureLinuxImageException>(() => TestAzureProvisioning.Run(options, new SilentContext()));
            Assert.Equal("DestinationExists", e.ErrorId);
            Assert.Equal(ErrorKind.AlreadyExists, e.Kind);
            Assert.Contains("console.log", e.Message);
            Assert.Equal("keep me", File.ReadAllText(dir.File("console.log")));

            options.OverwriteSerialLog = true;
            ProvisioningRehearsal r = TestAzureProvisioning.Run(options, new SilentContext());
            string log = File.ReadAllText(dir.File("console.log"));
            Assert.StartsWith(BootSectorImage.LineOne, log);
            Assert.DoesNotContain("keep me", log);
            Assert.Equal(dir.File("console.log"), r.ConsoleLog);
        }

        [Fact]
        public void TheImageCannotBeTheLogAndTheFolderMustExist()
        {
            RequireQemu();
            using var dir = new TempDirectory();
            BootSectorImage.Write(dir.File("disk.raw"), tripleFault: true);
            byte[] before = File.ReadAllBytes(dir.File("disk.raw"));

            var e = Assert.Throws<AzureLinuxImageException>(() => TestAzureProvisioning.Run(new RehearsalOptions
            {
                ImagePath = dir.File("disk.raw"), SerialLog = dir.File("disk.raw"), OverwriteSerialLog = true,
            }, new SilentContext()));
            Assert.Equal("SerialLogIsImage", e.ErrorId);
            Assert.Equal(before, File.ReadAllBytes(dir.File("disk.raw")));

            e = Assert.Throws<AzureLinuxImageException>(() => TestAzureProvisioning.Run(new RehearsalOptions
            {
                ImagePath = dir.File("disk.raw"), SerialLog = dir.File("no/such/folder/console.log"),
            }, new SilentContext()));
            Assert.Equal("DestinationFolderNotFound", e.ErrorId);

            e = Assert.Throws<AzureLinuxImageException>(() => TestAzureProvisioning.Run(new RehearsalOptions
            {
                ImagePath = dir.File("disk.raw"), CustomData = new byte[TestAzureProvisioning.MaxCustomDataBytes + 1],
            }, new SilentContext()));
            Assert.Equal("CustomDataTooLarge", e.ErrorId);
        }

        /// <summary>What counts as written back: the bytes (waagent with DecodeCustomData, cloud-init's user-data.txt) or the base64 text (waagent's default).</summary>
        [Fact]
        public void CustomDataIsRecognisedDecodedOrAsBase64()
        {
            byte[] data = Encoding.UTF8.GetBytes("#cloud-config\n");
            Assert.True(TestAzureProvisioning.HoldsCustomData(data, data));
            Assert.True(TestAzureProvisioning.HoldsCustomData(Encoding.ASCII.GetBytes(Convert.ToBase64String(data)), data));
            Assert.True(TestAzureProvisioning.HoldsCustomData(Encoding.ASCII.GetBytes(Convert.ToBase64String(data) + "\n"), data));
            Assert.False(TestAzureProvisioning.HoldsCustomData(Encoding.UTF8.GetBytes("#cloud-config\nx"), data));
            Assert.False(TestAzureProvisioning.HoldsCustomData(Array.Empty<byte>(), data));
        }
    }
}
