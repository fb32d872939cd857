using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace AzureLinuxImage.Emulation
{
    /// <summary>
    /// Writes a small ISO 9660 (ECMA-119) image with files in its root directory: the provisioning
    /// CD Azure attaches at first boot carries ovf-env.xml at its root (PROTOCOL.md "Provisioning
    /// media"). Level 1 names in upper case with ";1"; Linux mounts them in lower case without the
    /// version (isofs map=normal), which is the name waagent and cloud-init open. No Rock Ridge or
    /// Joliet: nothing on the CD needs them.
    /// </summary>
    internal static class IsoImageWriter
    {
        private const int Sector = 2048;

        /// <summary>The image bytes for <paramref name="files"/> (name, content), in one array: the CD is a few sectors.</summary>
        public static byte[] Build(string volumeId, IReadOnlyList<KeyValuePair<string, byte[]>> files, DateTime created)
        {
            if (volumeId.Length == 0 || volumeId.Length > 32)
            {
                throw new ArgumentException("An ISO 9660 volume identifier has 1 to 32 characters.", nameof(volumeId));
            }
            const int rootSector = 20; // 16 system area, PVD, terminator, L and M path tables
            var names = files.Select(f => IsoName(f.Key)).ToList();
            int rootLength = 34 + 34 + names.Sum(n => RecordLength(n));
            int rootSectors = (rootLength + Sector - 1) / Sector;
            if (rootSectors != 1)
            {
                throw new ArgumentException("Too many files for a one-sector root directory.", nameof(files));
            }
            var extents = new List<int>();
            int next = rootSector + rootSectors;
            foreach (var file in files)
            {
                extents.Add(next);
                next += Math.Max(1, (file.Value.Length + Sector - 1) / Sector);
            }
            int totalSectors = next;
            var image = new byte[totalSectors * Sector];

            Span<byte> pvd = image.AsSpan(16 * Sector, Sector);
            pvd[0] = 1;
            Encoding.ASCII.GetBytes("CD001").CopyTo(pvd.Slice(1));
            pvd[6] = 1;
            Padded(pvd.Slice(8, 32), "LINUX");
            Padded(pvd.Slice(40, 32), volumeId);
            BothEndian32(pvd.Slice(80), totalSectors);
            BothEndian16(pvd.Slice(120), 1);
            BothEndian16(pvd.Slice(124), 1);
            BothEndian16(pvd.Slice(128), Sector);
            BothEndian32(pvd.Slice(132), 10);
            BinaryPrimitives.WriteInt32LittleEndian(pvd.Slice(140), 18);
            BinaryPrimitives.WriteInt32BigEndian(pvd.Slice(148), 19);
            WriteRecord(pvd.Slice(156), new byte[] { 0 }, rootSector, rootSectors * Sector, directory: true, created);
            Padded(pvd.Slice(190, 128), string.Empty);
            Padded(pvd.Slice(318, 128), string.Empty);
            Padded(pvd.Slice(446, 128), string.Empty);
            Padded(pvd.Slice(574, 128), "AZURELINUXIMAGE");
            Padded(pvd.Slice(702, 37 * 3), string.Empty);
            DecimalDate(pvd.Slice(813), created);
            DecimalDate(pvd.Slice(830), created);
            DecimalDate(pvd.Slice(847), null);
            DecimalDate(pvd.Slice(864), created);
            pvd[881] = 1;

            Span<byte> terminator = image.AsSpan(17 * Sector, Sector);
            terminator[0] = 255;
            Encoding.ASCII.GetBytes("CD001").CopyTo(terminator.Slice(1));
            terminator[6] = 1;

            // ECMA-119 9.4: the root's path table entry (identifier 0x00, parent 1), little then big endian
            Span<byte> l = image.AsSpan(18 * Sector);
            l[0] = 1;
            BinaryPrimitives.WriteInt32LittleEndian(l.Slice(2), rootSector);
            BinaryPrimitives.WriteInt16LittleEndian(l.Slice(6), 1);
            Span<byte> m = image.AsSpan(19 * Sector);
            m[0] = 1;
            BinaryPrimitives.WriteInt32BigEndian(m.Slice(2), rootSector);
            BinaryPrimitives.WriteInt16BigEndian(m.Slice(6), 1);

            Span<byte> root = image.AsSpan(rootSector * Sector, rootSectors * Sector);
            int offset = WriteRecord(root, new byte[] { 0 }, rootSector, rootSectors * Sector, directory: true, created);
            offset += WriteRecord(root.Slice(offset), new byte[] { 1 }, rootSector, rootSectors * Sector, directory: true, created);
            for (int i = 0; i < files.Count; i++)
            {
                offset += WriteRecord(root.Slice(offset), Encoding.ASCII.GetBytes(names[i]), extents[i], files[i].Value.Length, directory: false, created);
                files[i].Value.CopyTo(image, extents[i] * Sector);
            }
            return image;
        }

        /// <summary>ovf-env.xml -> OVF-ENV.XML;1 (upper case; anything outside A-Z 0-9 . _ - rejected).</summary>
        internal static string IsoName(string name)
        {
            string upper = name.ToUpperInvariant();
            if (upper.Length == 0 || upper.Length > 30 || upper.Any(c => !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')) || upper.Count(c => c == '.') > 1)
            {
                throw new ArgumentException("'" + name + "' is not a name the provisioning CD can carry.", nameof(name));
            }
            return (upper.IndexOf('.') >= 0 ? upper : upper + ".") + ";1";
        }

        private static int RecordLength(string name) => 33 + name.Length + (name.Length % 2 == 0 ? 1 : 0);

        // ECMA-119 9.1 directory record
        private static int WriteRecord(Span<byte> target, byte[] identifier, int extent, int length, bool directory, DateTime created)
        {
            int recordLength = 33 + identifier.Length + (identifier.Length % 2 == 0 ? 1 : 0);
            target[0] = (byte)recordLength;
            BothEndian32(target.Slice(2), extent);
            BothEndian32(target.Slice(10), length);
            target[18] = (byte)(created.Year - 1900);
            target[19] = (byte)created.Month;
            target[20] = (byte)created.Day;
            target[21] = (byte)created.Hour;
            target[22] = (byte)created.Minute;
            target[23] = (byte)created.Second;
            target[24] = 0; // UTC
            target[25] = (byte)(directory ? 2 : 0);
            BothEndian16(target.Slice(28), 1);
            target[32] = (byte)identifier.Length;
            identifier.CopyTo(target.Slice(33));
            return recordLength;
        }

        private static void DecimalDate(Span<byte> target, DateTime? when)
        {
            string digits = when == null ? new string('0', 16) : when.Value.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + "00";
            Encoding.ASCII.GetBytes(digits).CopyTo(target);
            target[16] = 0;
        }

        private static void Padded(Span<byte> target, string text)
        {
            target.Fill((byte)' ');
            Encoding.ASCII.GetBytes(text).CopyTo(target);
        }

        private static void BothEndian16(Span<byte> target, int value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(target, (ushort)value);
            BinaryPrimitives.WriteUInt16BigEndian(target.Slice(2), (ushort)value);
        }

        private static void BothEndian32(Span<byte> target, int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(target, value);
            BinaryPrimitives.WriteInt32BigEndian(target.Slice(4), value);
        }
    }
}
