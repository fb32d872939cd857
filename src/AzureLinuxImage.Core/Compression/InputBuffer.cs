using System;
using System.IO;

namespace AzureLinuxImage.Compression
{
    /// <summary>
    /// A forward-only buffered reader over the compressed input. Decoders take bytes from it one
    /// structure at a time and leave it exactly after what they consumed, so the next part of an
    /// initramfs (another cpio, another compressed stream) can be read from the same place.
    /// </summary>
    internal sealed class InputBuffer
    {
        private readonly Stream stream;
        private readonly byte[] buffer;
        private int start;
        private int end;
        private bool eof;

        public InputBuffer(Stream stream, string sourceName, int bufferSize = 1 << 16)
        {
            this.stream = stream ?? throw new ArgumentNullException(nameof(stream));
            SourceName = sourceName;
            buffer = new byte[Math.Max(bufferSize, 64)];
        }

        /// <summary>Names the input in error messages.</summary>
        public string SourceName { get; }

        /// <summary>Bytes consumed so far.</summary>
        public long Position { get; private set; }

        /// <summary>Bytes buffered and not consumed.</summary>
        public int Available => end - start;

        /// <summary>The buffer itself, for decoders that parse in place: valid from <see cref="Offset"/> for <see cref="Available"/> bytes.</summary>
        public byte[] Buffer => buffer;

        public int Offset => start;

        /// <summary>Buffers at least <paramref name="count"/> bytes if the input has them (count ≤ 64); returns how many are buffered.</summary>
        public int Fill(int count)
        {
            if (end - start >= count)
            {
                return end - start;
            }
            if (start > 0)
            {
                System.Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }
            while (end - start < count && !eof)
            {
                int n = stream.Read(buffer, end, buffer.Length - end);
                if (n <= 0)
                {
                    eof = true;
                    break;
                }
                end += n;
            }
            return end - start;
        }

        /// <summary>Refills when empty; returns false at the end of the input.</summary>
        public bool EnsureSome() => Fill(1) > 0;

        /// <summary>True when no byte is left.</summary>
        public bool AtEnd => Fill(1) == 0;

        public void Skip(int count)
        {
            start += count;
            Position += count;
        }

        public int PeekByte(int index) => Fill(index + 1) > index ? buffer[start + index] : -1;

        public byte ReadByte(string structure)
        {
            if (start == end && Fill(1) == 0)
            {
                throw CompressionErrors.Truncated(SourceName, structure);
            }
            Position++;
            return buffer[start++];
        }

        public void ReadExactly(byte[] destination, int offset, int count, string structure)
        {
            while (count > 0)
            {
                if (start == end && Fill(1) == 0)
                {
                    throw CompressionErrors.Truncated(SourceName, structure);
                }
                int n = Math.Min(count, end - start);
                System.Buffer.BlockCopy(buffer, start, destination, offset, n);
                start += n;
                Position += n;
                offset += n;
                count -= n;
            }
        }

        /// <summary>Reads up to <paramref name="count"/> bytes; 0 only at the end of the input.</summary>
        public int ReadSome(byte[] destination, int offset, int count)
        {
            if (start == end && Fill(1) == 0)
            {
                return 0;
            }
            int n = Math.Min(count, end - start);
            System.Buffer.BlockCopy(buffer, start, destination, offset, n);
            start += n;
            Position += n;
            return n;
        }

        public void SkipExactly(long count, string structure)
        {
            while (count > 0)
            {
                if (start == end && Fill(1) == 0)
                {
                    throw CompressionErrors.Truncated(SourceName, structure);
                }
                int n = (int)Math.Min(count, end - start);
                start += n;
                Position += n;
                count -= n;
            }
        }

        public uint ReadUInt32LittleEndian(string structure)
        {
            uint b0 = ReadByte(structure), b1 = ReadByte(structure), b2 = ReadByte(structure), b3 = ReadByte(structure);
            return b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
        }

        /// <summary>Peeks a little-endian 32-bit value without consuming it; null when fewer than 4 bytes remain.</summary>
        public uint? PeekUInt32LittleEndian()
        {
            if (Fill(4) < 4)
            {
                return null;
            }
            return (uint)(buffer[start] | (buffer[start + 1] << 8) | (buffer[start + 2] << 16) | (buffer[start + 3] << 24));
        }
    }
}
