using System;
using System.Buffers.Binary;
using AzureLinuxImage.Checksums;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>
    /// One of the two 4 KiB headers at 64 KiB and 128 KiB (MS-VHDX 2.2.2). A header is valid when its
    /// signature and CRC-32C match; the current one is the valid one with the higher sequence number.
    /// </summary>
    internal sealed class VhdxHeader
    {
        public const int Size = 4096;
        public const long FirstOffset = 64 * 1024;
        public const long SecondOffset = 128 * 1024;
        private const uint Signature = 0x64616568; // "head"
        private const long OneMiB = 1024 * 1024;

        private VhdxHeader(ulong sequenceNumber, Guid fileWriteGuid, Guid dataWriteGuid, Guid logGuid, ushort logVersion, ushort version, uint logLength, ulong logOffset)
        {
            SequenceNumber = sequenceNumber;
            FileWriteGuid = fileWriteGuid;
            DataWriteGuid = dataWriteGuid;
            LogGuid = logGuid;
            LogVersion = logVersion;
            Version = version;
            LogLength = logLength;
            LogOffset = logOffset;
        }

        public ulong SequenceNumber { get; }

        public Guid FileWriteGuid { get; }

        /// <summary>Identifies the user-visible data; a child's parent_linkage names this value of its parent.</summary>
        public Guid DataWriteGuid { get; }

        /// <summary>Non-zero when the log may hold entries that must be replayed (2.2.2, 2.3).</summary>
        public Guid LogGuid { get; }

        public ushort LogVersion { get; }

        public ushort Version { get; }

        public uint LogLength { get; }

        public ulong LogOffset { get; }

        /// <summary>Parses a header; null with the reason when the signature or checksum is wrong.</summary>
        public static VhdxHeader? TryParse(ReadOnlySpan<byte> data, out string problem)
        {
            if (data.Length < Size)
            {
                problem = "the header is cut off";
                return null;
            }
            data = data.Slice(0, Size);
            if (BinaryPrimitives.ReadUInt32LittleEndian(data) != Signature)
            {
                problem = "the signature 'head' is missing";
                return null;
            }
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(4));
            uint computed = ComputeChecksum(data);
            if (stored != computed)
            {
                problem = $"the CRC-32C is 0x{stored:X8} but the header hashes to 0x{computed:X8}";
                return null;
            }
            problem = string.Empty;
            return new VhdxHeader(
                BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(8)),
                new Guid(data.Slice(16, 16).ToArray()),
                new Guid(data.Slice(32, 16).ToArray()),
                new Guid(data.Slice(48, 16).ToArray()),
                BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(64)),
                BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(66)),
                BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(68)),
                BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(72)));
        }

        /// <summary>CRC-32C over the 4 KiB structure with the checksum field taken as zero.</summary>
        public static uint ComputeChecksum(ReadOnlySpan<byte> header)
        {
            Span<byte> zero = stackalloc byte[4];
            uint state = CrcRegister.Crc32C(0xFFFFFFFFu, header.Slice(0, 4));
            state = CrcRegister.Crc32C(state, zero);
            state = CrcRegister.Crc32C(state, header.Slice(8, Size - 8));
            return ~state;
        }

        /// <summary>
        /// Picks the current header (2.2.2): the only valid one, or the valid one with the higher sequence
        /// number; two valid headers with equal numbers are accepted (either may be used, they agree).
        /// </summary>
        public static VhdxHeader SelectCurrent(string path, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
        {
            VhdxHeader? one = TryParse(first, out string problemOne);
            VhdxHeader? two = TryParse(second, out string problemTwo);
            VhdxHeader current;
            if (one == null && two == null)
            {
                throw new InvalidImageException(path, "VHDX header",
                    $"neither header is valid (header 1 at 64 KiB: {problemOne}; header 2 at 128 KiB: {problemTwo}).");
            }
            else if (one == null)
            {
                current = two!;
            }
            else if (two == null)
            {
                current = one;
            }
            else
            {
                current = two.SequenceNumber > one.SequenceNumber ? two : one;
            }
            current.Validate(path);
            return current;
        }

        /// <summary>Field rules of 2.2.2 for the header in use.</summary>
        private void Validate(string path)
        {
            if (Version != 1)
            {
                throw new UnsupportedImageException(path, $"VHDX header: version {Version} is not the version 1 this reader implements (MS-VHDX v1.0).");
            }
            if (LogVersion != 0)
            {
                throw new UnsupportedImageException(path, $"VHDX header: log version {LogVersion} is not the version 0 this reader implements (MS-VHDX v1.0).");
            }
            if (LogLength % OneMiB != 0)
            {
                throw new InvalidImageException(path, "VHDX header log length", $"{LogLength} is not a multiple of 1 MiB.");
            }
            if (LogOffset % OneMiB != 0 || (LogLength != 0 && LogOffset < OneMiB))
            {
                throw new InvalidImageException(path, "VHDX header log offset", $"{LogOffset} is not a multiple of 1 MiB past the header area.");
            }
            if (LogOffset > long.MaxValue / 2)
            {
                throw new InvalidImageException(path, "VHDX header log offset", $"{LogOffset} is beyond any possible file.");
            }
        }
    }
}
