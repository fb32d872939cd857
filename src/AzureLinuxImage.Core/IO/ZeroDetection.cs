using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AzureLinuxImage.IO
{
    /// <summary>Vectorised all-zero test, used to keep outputs sparse and to skip zero pages on upload.</summary>
    internal static class ZeroDetection
    {
        public static bool IsAllZero(ReadOnlySpan<byte> data)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count * 4)
            {
                ReadOnlySpan<Vector<byte>> vectors = MemoryMarshal.Cast<byte, Vector<byte>>(data);
                int v = 0;
                for (; v + 4 <= vectors.Length; v += 4)
                {
                    if (!(vectors[v] | vectors[v + 1] | vectors[v + 2] | vectors[v + 3]).Equals(Vector<byte>.Zero))
                    {
                        return false;
                    }
                }
                for (; v < vectors.Length; v++)
                {
                    if (!vectors[v].Equals(Vector<byte>.Zero))
                    {
                        return false;
                    }
                }
                i = vectors.Length * Vector<byte>.Count;
            }
            ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data.Slice(i));
            foreach (ulong w in words)
            {
                if (w != 0)
                {
                    return false;
                }
            }
            for (int j = i + (words.Length * 8); j < data.Length; j++)
            {
                if (data[j] != 0)
                {
                    return false;
                }
            }
            return true;
        }
    }
}
