namespace AzureLinuxImage.Compression
{
    /// <summary>A decoder pulling compressed bytes from an <see cref="InputBuffer"/>.</summary>
    internal interface IDecoder
    {
        /// <summary>Decodes up to <paramref name="count"/> bytes; 0 only at the end of the compressed stream.</summary>
        int Read(byte[] buffer, int offset, int count);
    }
}
