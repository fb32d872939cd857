using System;
using AzureLinuxImage.Errors;
using AzureLinuxImage.FileSystems;
using AzureLinuxImage.Linux;

namespace AzureLinuxImage.Operations
{
    /// <summary>Opens what the item cmdlets read: the assembled Linux view of an image, or a host folder (-RootPath).</summary>
    internal sealed class LinuxImageView : IDisposable
    {
        private readonly LinuxImage? image;

        private LinuxImageView(string source, IFileSystem fs, LinuxImage? image)
        {
            Source = source;
            FileSystem = fs;
            this.image = image;
        }

        /// <summary>The image file or root folder.</summary>
        public string Source { get; }

        public IFileSystem FileSystem { get; }

        /// <summary>True for a host folder (-RootPath), false for an image.</summary>
        public bool IsRootFolder => image == null;

        /// <summary>Exactly one of <paramref name="imagePath"/> and <paramref name="rootPath"/>; warnings about the image go to the context.</summary>
        public static LinuxImageView Open(string? imagePath, string? rootPath, IOperationContext context)
        {
            if ((imagePath == null) == (rootPath == null))
            {
                throw new AzureLinuxImageException("ImageOrRootRequired", ErrorKind.InvalidArgument, "Give either an image file or a root folder.");
            }
            if (rootPath != null)
            {
                var host = new HostDirectoryFileSystem(rootPath);
                return new LinuxImageView(System.IO.Path.GetFullPath(rootPath), host, null);
            }
            LinuxImage image = LinuxImage.Open(imagePath!);
            try
            {
                foreach (string w in image.Warnings)
                {
                    context.Warning(w);
                }
                return new LinuxImageView(image.Disk.Path, image.RequireFileSystem(), image);
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            if (image != null)
            {
                image.Dispose();
            }
            else
            {
                FileSystem.Dispose();
            }
        }
    }
}
