using System.Collections.Generic;
using System.IO;
using System.Text;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.Operations
{
    /// <summary>Get-LinuxImageContent / azlinux cat: a file's bytes or lines, read from inside an image (links followed).</summary>
    internal static class GetLinuxImageContent
    {
        /// <summary>Files above this are refused as one array or list of lines; azlinux cat streams any size.</summary>
        public const long MaxInMemoryBytes = 512L << 20;

        public static byte[] ReadAllBytes(string? imagePath, string? rootPath, string itemPath, IOperationContext context)
        {
            using LinuxImageView view = LinuxImageView.Open(imagePath, rootPath, context);
            using Stream s = view.FileSystem.OpenRead(itemPath);
            if (s.Length > MaxInMemoryBytes)
            {
                throw new AzureLinuxImageException("ItemTooLarge", ErrorKind.InvalidArgument,
                    $"{itemPath} is {s.Length} bytes; above {MaxInMemoryBytes} bytes use 'azlinux cat' to stream it to a file.", view.Source);
            }
            var bytes = new byte[s.Length];
            int done = 0;
            while (done < bytes.Length)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                int n = s.Read(bytes, done, bytes.Length - done);
                if (n <= 0)
                {
                    break;
                }
                done += n;
            }
            return bytes;
        }

        /// <summary>The file as text lines (UTF-8, \n or \r\n), without line terminators, like Get-Content.</summary>
        public static List<string> ReadLines(string? imagePath, string? rootPath, string itemPath, IOperationContext context)
        {
            byte[] bytes = ReadAllBytes(imagePath, rootPath, itemPath, context);
            var lines = new List<string>();
            using var reader = new StringReader(new UTF8Encoding(false, false).GetString(bytes));
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                lines.Add(line);
            }
            return lines;
        }

        /// <summary>Copies the file to <paramref name="output"/> in bounded chunks, whatever its size.</summary>
        public static void CopyTo(string? imagePath, string? rootPath, string itemPath, Stream output, IOperationContext context)
        {
            using LinuxImageView view = LinuxImageView.Open(imagePath, rootPath, context);
            using Stream s = view.FileSystem.OpenRead(itemPath);
            var buffer = new byte[1 << 20];
            int n;
            while ((n = s.Read(buffer, 0, buffer.Length)) > 0)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                output.Write(buffer, 0, n);
            }
            output.Flush();
        }
    }
}
