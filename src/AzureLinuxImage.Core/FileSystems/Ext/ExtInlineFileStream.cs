using System;

namespace AzureLinuxImage.FileSystems.Ext
{
    /// <summary>An inline-data file: its stored bytes, then zeros up to its size (a hole past the inline data, as the kernel reads it).</summary>
    internal sealed class ExtInlineFileStream : FileContentStream
    {
        private readonly byte[] stored;

        public ExtInlineFileStream(byte[] stored, long size)
            : base(size)
        {
            this.stored = stored;
        }

        protected override void ReadCore(long at, byte[] buffer, int offset, int count)
        {
            int fromStored = at >= stored.Length ? 0 : (int)Math.Min(count, stored.Length - at);
            if (fromStored > 0)
            {
                Buffer.BlockCopy(stored, (int)at, buffer, offset, fromStored);
            }
            Array.Clear(buffer, offset + fromStored, count - fromStored);
        }
    }
}
