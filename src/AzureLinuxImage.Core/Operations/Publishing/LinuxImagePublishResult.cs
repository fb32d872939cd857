using System;
using System.Collections.Generic;
using System.Linq;

namespace AzureLinuxImage.Operations
{
    /// <summary>One step of a publish and how long it took.</summary>
    public sealed class PublishStep
    {
        internal PublishStep(string name, TimeSpan duration, string detail)
        {
            Name = name;
            Duration = duration;
            Detail = detail;
        }

        /// <summary>Readiness, Features, Check, Disk, Grant, Upload, Revoke, Image, Gallery, Definition, Version.</summary>
        public string Name { get; }

        /// <summary>Wall time of the step.</summary>
        public TimeSpan Duration { get; }

        /// <summary>What the step did ("created", "reused (ActiveUpload)", "exists").</summary>
        public string Detail { get; }

        /// <summary>One line that names the object.</summary>
        public override string ToString() => $"{Name} {Duration.TotalSeconds:F1} s ({Detail})";
    }

    /// <summary>What Publish-LinuxImage / azlinux publish made in Azure (issue 26). Holds no SAS and no token.</summary>
    public sealed class LinuxImagePublishResult
    {
        internal LinuxImagePublishResult(string source, string diskId, string? imageId, string? galleryImageDefinitionId, string? galleryImageVersionId,
            ImageFeatures features, AzureUploadResult? upload, IReadOnlyList<PublishStep> steps, IReadOnlyList<string> created, int armRequests, bool resumed)
        {
            Source = source;
            DiskId = diskId;
            ImageId = imageId;
            GalleryImageDefinitionId = galleryImageDefinitionId;
            GalleryImageVersionId = galleryImageVersionId;
            Features = features;
            Upload = upload;
            Steps = steps;
            Created = created;
            ArmRequests = armRequests;
            Resumed = resumed;
        }

        /// <summary>The image that was read.</summary>
        public string Source { get; }

        /// <summary>The managed disk's resource id.</summary>
        public string DiskId { get; }

        /// <summary>The managed image's resource id, when -ImageName was given.</summary>
        public string? ImageId { get; }

        /// <summary>The gallery image definition's resource id, when a gallery was given.</summary>
        public string? GalleryImageDefinitionId { get; }

        /// <summary>The gallery image version's resource id, when a gallery was given.</summary>
        public string? GalleryImageVersionId { get; }

        /// <summary>The definition's features derived from the image, each with its evidence.</summary>
        public ImageFeatures Features { get; }

        /// <summary>The upload (null when a re-run found the disk already uploaded).</summary>
        public AzureUploadResult? Upload { get; }

        /// <summary>Each step with its time.</summary>
        public IReadOnlyList<PublishStep> Steps { get; }

        /// <summary>Resource ids this run created (what a removal after a failure would concern).</summary>
        public IReadOnlyList<string> Created { get; }

        /// <summary>Resource Manager requests sent (polls included, retries not).</summary>
        public int ArmRequests { get; }

        /// <summary>Whether an earlier run's disk was reused.</summary>
        public bool Resumed { get; }

        /// <summary>Total wall time of the steps.</summary>
        public TimeSpan Duration => TimeSpan.FromTicks(Steps.Sum(s => s.Duration.Ticks));

        /// <summary>One line that names the object.</summary>
        public override string ToString() => GalleryImageVersionId ?? ImageId ?? DiskId;
    }
}
