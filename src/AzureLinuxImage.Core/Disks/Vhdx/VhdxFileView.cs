using System;
using AzureLinuxImage.IO;

namespace AzureLinuxImage.Disks.Vhdx
{
    /// <summary>
    /// The VHDX file as it would be after log replay, without writing it (MS-VHDX 2.3.3): reads go to
    /// the file, then the replayed sectors of <see cref="VhdxLogOverlay"/> are laid over them. When the
    /// log says the file was longer (LastFileOffset), the missing tail reads as zeros, as replay would
    /// have extended the file with zeros.
    /// </summary>
    internal sealed class VhdxFileView : IDisposable
    {
        private readonly VhdxLogOverlay? overlay;

        public VhdxFileView(ImageFile file, VhdxLogOverlay? overlay)
        {
            File = file;
            this.overlay = overlay;
            Length = overlay == null ? file.Length : Math.Max(file.Length, overlay.LastFileOffset);
        }

        public ImageFile File { get; }

        public string Path => File.Path;

        /// <summary>Logical length of the file after replay.</summary>
        public long Length { get; }

        public bool Replayed => overlay != null;

        /// <summary>Reads exactly <paramref name="count"/> bytes or throws an InvalidImageException naming <paramref name="structure"/>.</summary>
        public void ReadExactly(long offset, byte[] buffer, int index, int count, string structure)
        {
            if (overlay == null)
            {
                File.ReadExactly(offset, buffer, index, count, structure);
                return;
            }
            if (offset < 0 || offset > Length || count > Length - offset)
            {
                // Let the file report the truncation in its usual words.
                File.ReadExactly(offset, buffer, index, count, structure);
                return;
            }
            int physical = (int)Math.Max(0, Math.Min(count, File.Length - offset));
            if (physical > 0)
            {
                File.ReadExactly(offset, buffer, index, physical, structure);
            }
            Array.Clear(buffer, index + physical, count - physical);
            overlay.Apply(offset, buffer, index, count);
        }

        public byte[] ReadStructure(long offset, int count, string structure)
        {
            var buffer = new byte[count];
            ReadExactly(offset, buffer, 0, count, structure);
            return buffer;
        }

        public void Dispose() => File.Dispose();
    }
}
