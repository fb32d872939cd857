using System;
using System.IO;
using System.Text;
using System.Threading;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>
    /// The Hyper-V KVP pool the host reads (PROTOCOL.md "Provisioning media and KVP"): fixed records of a
    /// 512-byte key and a 2048-byte value, UTF-8, NUL-padded, appended while holding an exclusive lock.
    /// </summary>
    internal static class KvpPool
    {
        public const int KeySize = 512;
        public const int ValueSize = 2048;
        public const int RecordSize = KeySize + ValueSize;
        public const string DefaultPoolPath = "/var/lib/hyperv/.kvp_pool_1";
        public const string ProvisioningReportKey = "PROVISIONING_REPORT";

        /// <summary>How long to wait for another writer's lock before giving up.</summary>
        private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(5);

        /// <summary>
        /// Appends one record. On Linux .NET takes flock(LOCK_EX | LOCK_NB) for FileShare.None, the lock
        /// cloud-init takes on this file (PROTOCOL.md: "appended under flock"); a busy pool is retried for
        /// a few seconds, never waited for without end.
        /// </summary>
        public static void Append(string poolPath, string key, string value, CancellationToken cancellationToken)
        {
            byte[] record = EncodeRecord(key, value);
            DateTime deadline = DateTime.UtcNow + LockWait;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    using var stream = new FileStream(poolPath, FileMode.Open, FileAccess.Write, FileShare.None);
                    stream.Seek(0, SeekOrigin.End);
                    // A torn earlier record must not shift every later one: start at a record boundary.
                    long misaligned = stream.Length % RecordSize;
                    if (misaligned != 0)
                    {
                        stream.Seek(RecordSize - misaligned, SeekOrigin.End);
                    }
                    stream.Write(record, 0, record.Length);
                    stream.Flush(true);
                    return;
                }
                catch (FileNotFoundException e)
                {
                    throw new AzureLinuxImageException("KvpPoolNotFound", ErrorKind.NotFound, $"The KVP pool {poolPath} does not exist.", poolPath, e);
                }
                catch (IOException e) when (DateTime.UtcNow < deadline && !(e is DirectoryNotFoundException))
                {
                    Thread.Sleep(50);
                }
            }
        }

        /// <summary>One record: key and value UTF-8, each cut at a whole character to leave room for a NUL terminator.</summary>
        internal static byte[] EncodeRecord(string key, string value)
        {
            var record = new byte[RecordSize];
            WriteField(record, 0, KeySize, key);
            WriteField(record, KeySize, ValueSize, value);
            return record;
        }

        private static void WriteField(byte[] record, int offset, int size, string text)
        {
            int bytes = 0;
            int chars = 0;
            // Keep whole characters (and surrogate pairs) only, below size - 1 bytes.
            while (chars < text.Length)
            {
                int unit = char.IsHighSurrogate(text[chars]) && chars + 1 < text.Length && char.IsLowSurrogate(text[chars + 1]) ? 2 : 1;
                int n = Encoding.UTF8.GetByteCount(text.ToCharArray(chars, unit));
                if (bytes + n > size - 1)
                {
                    break;
                }
                bytes += n;
                chars += unit;
            }
            Encoding.UTF8.GetBytes(text, 0, chars, record, offset);
        }

        /// <summary>Reads the records back (tests, diagnostics): key and value with the NUL padding removed.</summary>
        internal static (string Key, string Value)[] ReadAll(byte[] pool)
        {
            int count = pool.Length / RecordSize;
            var records = new (string, string)[count];
            for (int i = 0; i < count; i++)
            {
                records[i] = (Field(pool, i * RecordSize, KeySize), Field(pool, i * RecordSize + KeySize, ValueSize));
            }
            return records;
        }

        private static string Field(byte[] pool, int offset, int size)
        {
            int end = Array.IndexOf(pool, (byte)0, offset, size);
            return Encoding.UTF8.GetString(pool, offset, (end < 0 ? offset + size : end) - offset);
        }
    }
}
