using System;
using System.IO;
using System.Text;
using System.Xml;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Provisioning
{
    /// <summary>
    /// XML in and out of the wire server. Reading: DTDs prohibited, no resolver (no external entities,
    /// no entity expansion bombs), a character cap. Writing: every value escaped, characters XML 1.0
    /// cannot carry replaced, so a hostile or odd value can never break the report's structure.
    /// </summary>
    internal static class ProvisioningXml
    {
        /// <summary>Largest goal state accepted (the real ones are a few KiB).</summary>
        public const int MaxDocumentBytes = 1024 * 1024;

        public static XmlReaderSettings ReaderSettings() => new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxDocumentBytes,
            MaxCharactersFromEntities = 0,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
            CloseInput = true,
        };

        /// <summary>Loads a document with <see cref="ReaderSettings"/>; malformed input becomes InvalidData.</summary>
        public static XmlDocument Load(byte[] content, string what)
        {
            if (content.Length > MaxDocumentBytes)
            {
                throw new AzureLinuxImageException("InvalidGoalState", ErrorKind.InvalidData,
                    $"{what}: {content.Length} bytes is larger than the {MaxDocumentBytes}-byte limit.");
            }
            var doc = new XmlDocument { XmlResolver = null };
            try
            {
                using var reader = XmlReader.Create(new MemoryStream(content, false), ReaderSettings());
                doc.Load(reader);
            }
            catch (XmlException e)
            {
                throw new AzureLinuxImageException("InvalidGoalState", ErrorKind.InvalidData,
                    $"{what} is not well-formed XML (line {e.LineNumber}, position {e.LinePosition}): {e.Message}", null, e);
            }
            return doc;
        }

        /// <summary>True for the characters XML 1.0 allows (§2.2 Char), surrogate pairs checked by the caller.</summary>
        private static bool IsXmlChar(char c) =>
            c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD);

        /// <summary>
        /// Escapes <paramref name="value"/> for element content. Lone surrogates and characters XML 1.0
        /// cannot carry become U+FFFD. When <paramref name="maxUtf8Bytes"/> is set, the escaped text is cut
        /// at a whole unit (an escape sequence, a surrogate pair, a character) so that its UTF-8 length
        /// stays within the limit; <paramref name="truncated"/> says whether anything was dropped.
        /// </summary>
        public static string Escape(string value, int maxUtf8Bytes, out bool truncated)
        {
            var sb = new StringBuilder(Math.Min(value.Length + 16, maxUtf8Bytes));
            int bytes = 0;
            truncated = false;
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                string? unit;
                int unitBytes;
                if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    unit = value.Substring(i, 2);
                    unitBytes = 4;
                }
                else
                {
                    switch (c)
                    {
                        case '&': unit = "&amp;"; break;
                        case '<': unit = "&lt;"; break;
                        case '>': unit = "&gt;"; break;
                        case '"': unit = "&quot;"; break;
                        case '\'': unit = "&apos;"; break;
                        // A raw CR would be normalised to LF by the reader (XML 1.0 §2.11).
                        case '\r': unit = "&#13;"; break;
                        default:
                            unit = IsXmlChar(c) && !char.IsSurrogate(c) ? null : "\uFFFD";
                            break;
                    }
                    unitBytes = unit != null ? Encoding.UTF8.GetByteCount(unit) : (c < 0x80 ? 1 : c < 0x800 ? 2 : 3);
                }
                if (bytes + unitBytes > maxUtf8Bytes)
                {
                    truncated = true;
                    break;
                }
                bytes += unitBytes;
                if (unit == null)
                {
                    sb.Append(c);
                }
                else
                {
                    sb.Append(unit);
                    if (unit.Length == 2 && char.IsHighSurrogate(unit[0]))
                    {
                        i++;
                    }
                }
            }
            return sb.ToString();
        }

        /// <summary>Escapes without a length limit.</summary>
        public static string Escape(string value) => Escape(value, int.MaxValue, out _);
    }
}
