namespace AzureLinuxImage.Compression.Xz
{
    /// <summary>
    /// The legacy .lzma ("LZMA alone") format the kernel also accepts for an initramfs: a properties
    /// byte, a 32-bit dictionary size, a 64-bit uncompressed size (all ones = unknown, then an end
    /// marker ends the data), then one LZMA stream.
    /// </summary>
    internal sealed class LzmaAloneDecoder : IDecoder
    {
        private readonly InputBuffer input;
        private readonly string source;
        private readonly int maxWindow;
        private LzWindow? window;
        private LzmaDecoder? lzma;
        private long remaining = -1;
        private bool started;
        private bool done;

        public LzmaAloneDecoder(InputBuffer input, DecompressionLimits limits)
        {
            this.input = input;
            source = input.SourceName;
            maxWindow = limits.MaxWindowBytes;
        }

        public int Read(byte[] buffer, int offset, int count)
        {
            if (!started)
            {
                Start();
            }
            if (done)
            {
                return 0;
            }
            int ask = remaining >= 0 && remaining < count ? (int)remaining : count;
            if (ask == 0)
            {
                done = true;
                return 0;
            }
            window!.PrepareRoom();
            int start = window.Position;
            int n = lzma!.Decode(ask, allowEndMarker: true, out bool end);
            System.Buffer.BlockCopy(window.Buffer, start, buffer, offset, n);
            if (remaining >= 0)
            {
                remaining -= n;
                if (end && remaining != 0)
                {
                    throw CompressionErrors.Invalid(source, "LZMA data", "the end marker comes before the declared uncompressed size.");
                }
            }
            if (end)
            {
                if (!lzma.FinishRange())
                {
                    throw CompressionErrors.Invalid(source, "LZMA data", "the range coder is not finished at the end marker.");
                }
                done = true;
            }
            if (remaining == 0 && !done)
            {
                done = true;
            }
            return n;
        }

        private void Start()
        {
            const string S = "LZMA header";
            started = true;
            int props = input.ReadByte(S);
            if (!LzmaDecoder.TryDecodeProperties(props, out int lc, out int lp, out int pb))
            {
                throw CompressionErrors.Invalid(source, S, $"properties byte 0x{props:X2} is invalid.");
            }
            uint dict = input.ReadUInt32LittleEndian(S);
            ulong size = input.ReadUInt32LittleEndian(S) | ((ulong)input.ReadUInt32LittleEndian(S) << 32);
            remaining = size == ulong.MaxValue ? -1 : size > long.MaxValue ? throw CompressionErrors.Invalid(source, S, "the uncompressed size is too large.") : (long)size;
            long effective = dict;
            if (remaining >= 0 && remaining < effective)
            {
                effective = remaining;
            }
            if (effective > maxWindow)
            {
                throw CompressionErrors.LimitExceeded(source, $"the LZMA stream needs a dictionary of {effective} bytes, more than the limit of {maxWindow}");
            }
            window = new LzWindow((int)effective);
            lzma = new LzmaDecoder(window, source);
            lzma.SetProperties(lc, lp, pb);
            lzma.ResetState();
            lzma.InitRange(System.Array.Empty<byte>(), 0, 0, input);
        }
    }
}
