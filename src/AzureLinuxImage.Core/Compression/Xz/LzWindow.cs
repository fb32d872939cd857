using System;

namespace AzureLinuxImage.Compression.Xz
{
    /// <summary>
    /// The LZMA dictionary: a ring of at most the declared dictionary size, grown on demand until it
    /// first wraps so a small stream with a 64 MiB dictionary does not allocate 64 MiB.
    /// </summary>
    internal sealed class LzWindow
    {
        private readonly int maxCapacity;

        public LzWindow(int dictionarySize)
        {
            maxCapacity = Math.Max(dictionarySize, 4096);
            Buffer = new byte[Math.Min(maxCapacity, 1 << 16)];
        }

        public byte[] Buffer { get; private set; }

        public int Capacity => Buffer.Length;

        public int DictionarySize => maxCapacity;

        public int Position { get; set; }

        /// <summary>Bytes written since the last dictionary reset (what distances may reach).</summary>
        public long Total { get; set; }

        private bool wrapped;

        public void Reset()
        {
            Position = 0;
            Total = 0;
            wrapped = false;
        }

        /// <summary>Makes room at <see cref="Position"/>: grows while never wrapped, wraps at the dictionary size; returns the contiguous room.</summary>
        public int PrepareRoom()
        {
            if (Position == Buffer.Length)
            {
                if (!wrapped && Buffer.Length < maxCapacity)
                {
                    byte[] grown = new byte[(int)Math.Min(maxCapacity, (long)Buffer.Length * 2)];
                    System.Buffer.BlockCopy(Buffer, 0, grown, 0, Position);
                    Buffer = grown;
                }
                else
                {
                    Position = 0;
                    wrapped = true;
                }
            }
            return Buffer.Length - Position;
        }

        /// <summary>The byte <paramref name="distance"/> (≥ 1) positions back; the caller checks the distance against <see cref="Total"/>.</summary>
        public byte Get(uint distance)
        {
            int i = Position - (int)distance;
            if (i < 0)
            {
                i += Buffer.Length;
            }
            return Buffer[i];
        }
    }
}
