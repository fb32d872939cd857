using System;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>
    /// The file type identifier at offset 0 (MS-VHDX 2.2.1): the signature "vhdxfile" and the creator
    /// as up to 256 UTF-16 characters. The creator is informational only.
    /// </summary>
    internal sealed class VhdxFileIdentifier
    {
        public const int Size = 8 + 512;
        public const string SignatureText = "vhdxfile";

        private VhdxFileIdentifier(string creator)
        {
            Creator = creator;
        }

        /// <summary>The application that created the file, as it wrote itself; empty when absent.</summary>
        public string Creator { get; }

        public static VhdxFileIdentifier Parse(string path, ReadOnlySpan<byte> data)
        {
            if (data.Length < Size || !DiskFormats.StartsWith(data.Slice(0, 8).ToArray(), SignatureText))
            {
                throw new InvalidImageException(path, "VHDX file identifier", "the signature 'vhdxfile' is missing at offset 0.");
            }
            byte[] creator = data.Slice(8, 512).ToArray();
            int length = 0;
            while (length + 1 < creator.Length && (creator[length] != 0 || creator[length + 1] != 0))
            {
                length += 2;
            }
            string text = Encoding.Unicode.GetString(creator, 0, length);
            // Keep only printable characters: the text ends up in messages and reports.
            var clean = new StringBuilder(text.Length);
            foreach (char c in text)
            {
                if (!char.IsControl(c))
                {
                    clean.Append(c);
                }
            }
            return new VhdxFileIdentifier(clean.ToString().Trim());
        }
    }
}
