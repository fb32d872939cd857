using System;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>A btrfs subvolume or snapshot, as `btrfs subvolume list` names it.</summary>
    public sealed class BtrfsSubvolumeInfo
    {
        /// <summary>Creates a description.</summary>
        public BtrfsSubvolumeInfo(ulong id, string path, ulong parentId, Guid? uuid, Guid? parentUuid, bool readOnly, bool isDefault, DateTimeOffset? created)
        {
            Id = id;
            Path = path;
            ParentId = parentId;
            Uuid = uuid;
            ParentUuid = parentUuid;
            ReadOnly = readOnly;
            IsDefault = isDefault;
            Created = created;
        }

        /// <summary>The subvolume id (fstab's subvolid=; 5 is the top level).</summary>
        public ulong Id { get; }

        /// <summary>Path from the top level without a leading slash (fstab's subvol=), e.g. "root" or "@/.snapshots/1/snapshot".</summary>
        public string Path { get; }

        /// <summary>The subvolume that contains it.</summary>
        public ulong ParentId { get; }

        /// <summary>Its UUID, when the root item records one.</summary>
        public Guid? Uuid { get; }

        /// <summary>For a snapshot: the UUID of the subvolume it was taken of.</summary>
        public Guid? ParentUuid { get; }

        /// <summary>True for a snapshot (it has a source subvolume).</summary>
        public bool IsSnapshot => ParentUuid != null;

        /// <summary>Read-only (as snapper's snapshots are).</summary>
        public bool ReadOnly { get; }

        /// <summary>The default subvolume (what is mounted without subvol=).</summary>
        public bool IsDefault { get; }

        /// <summary>When it was created, when recorded.</summary>
        public DateTimeOffset? Created { get; }

        /// <summary>One line that names the object (what PowerShell prints for it inside another object's view).</summary>
        public override string ToString() => Id + " " + Path + (IsDefault ? " (default)" : string.Empty) + (IsSnapshot ? " (snapshot)" : string.Empty);
    }
}
