using System;
using System.Collections.Generic;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks
{
    /// <summary>Streaming operations on ascending range sequences.</summary>
    internal static class RangeMath
    {
        /// <summary>Merges adjacent and overlapping ranges of an ascending sequence; drops empty ones.</summary>
        public static IEnumerable<ByteRange> Coalesce(IEnumerable<ByteRange> ranges)
        {
            bool have = false;
            long start = 0, end = 0;
            foreach (ByteRange r in ranges)
            {
                if (r.Length <= 0)
                {
                    continue;
                }
                if (have && r.Offset <= end)
                {
                    end = Math.Max(end, r.End);
                    continue;
                }
                if (have)
                {
                    yield return new ByteRange(start, end - start);
                }
                have = true;
                start = r.Offset;
                end = r.End;
            }
            if (have)
            {
                yield return new ByteRange(start, end - start);
            }
        }

        /// <summary>Union of two ascending sequences (a differencing image over its parent), streamed.</summary>
        public static IEnumerable<ByteRange> Union(IEnumerable<ByteRange> a, IEnumerable<ByteRange> b)
        {
            using IEnumerator<ByteRange> ea = a.GetEnumerator();
            using IEnumerator<ByteRange> eb = b.GetEnumerator();
            bool hasA = ea.MoveNext(), hasB = eb.MoveNext();
            while (hasA || hasB)
            {
                if (hasA && (!hasB || ea.Current.Offset <= eb.Current.Offset))
                {
                    yield return ea.Current;
                    hasA = ea.MoveNext();
                }
                else
                {
                    yield return eb.Current;
                    hasB = eb.MoveNext();
                }
            }
        }

        /// <summary>Clips an ascending sequence to [0, <paramref name="limit"/>).</summary>
        public static IEnumerable<ByteRange> Clip(IEnumerable<ByteRange> ranges, long limit)
        {
            foreach (ByteRange r in ranges)
            {
                if (r.Offset >= limit)
                {
                    yield break;
                }
                yield return r.End > limit ? new ByteRange(r.Offset, limit - r.Offset) : r;
            }
        }
    }
}
