using System;
using System.Collections.Generic;
using AzureLinuxImage.Errors;

namespace AzureLinuxImage.FileSystems.Btrfs
{
    /// <summary>
    /// One B-tree (root, chunk, or a subvolume's fs tree) from its root block. Descending checks each
    /// child's level (one less than its parent: no cycles), generation and first key against the
    /// pointer that named it; walking checks that keys only grow, so a damaged tree ends in a typed
    /// error, never a loop.
    /// </summary>
    internal sealed class BtrfsTree
    {
        public BtrfsTree(BtrfsVolume volume, ulong id, ulong rootLogical, int rootLevel, ulong rootGeneration, string structure)
        {
            Volume = volume;
            Id = id;
            RootLogical = rootLogical;
            RootLevel = rootLevel;
            RootGeneration = rootGeneration;
            Structure = structure;
            if (rootLevel > BtrfsSuperblock.MaxLevel)
            {
                throw new InvalidImageException(volume.Where, structure, $"the root block is at level {rootLevel}, above {BtrfsSuperblock.MaxLevel}.");
            }
        }

        public BtrfsVolume Volume { get; }

        public ulong Id { get; }

        public ulong RootLogical { get; }

        public int RootLevel { get; }

        public ulong RootGeneration { get; }

        public string Structure { get; }

        /// <summary>A cursor at the first item whose key is at least <paramref name="key"/> (invalid when there is none).</summary>
        public BtrfsTreeCursor Search(BtrfsKey key)
        {
            var cursor = new BtrfsTreeCursor(this);
            BtrfsNode node = Volume.ReadNode(RootLogical, RootLevel, RootGeneration, Structure);
            while (!node.IsLeaf)
            {
                // The last pointer whose key is <= the search key (or the first).
                int lo = 0;
                int hi = node.Count - 1;
                int slot = 0;
                while (lo <= hi)
                {
                    int mid = (lo + hi) >> 1;
                    if (node.Key(mid).CompareTo(key) <= 0)
                    {
                        slot = mid;
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid - 1;
                    }
                }
                cursor.Push(node, slot);
                node = Child(node, slot);
            }
            int leafSlot = LowerBound(node, key);
            cursor.Push(node, leafSlot);
            cursor.Settle();
            return cursor;
        }

        /// <summary>The item with the greatest key at most <paramref name="key"/>, or an invalid cursor.</summary>
        public BtrfsTreeCursor SearchAtOrBefore(BtrfsKey key)
        {
            BtrfsTreeCursor c = Search(key);
            if (c.Valid && c.Key.CompareTo(key) == 0)
            {
                return c;
            }
            if (c.Valid)
            {
                c.MovePrevious();
                return c;
            }
            return Last();
        }

        /// <summary>The data of the item with exactly <paramref name="key"/>, or null.</summary>
        public byte[]? Find(BtrfsKey key) => TryFind(key, out BtrfsNode? leaf, out int slot) ? leaf!.Data(slot).ToArray() : null;

        /// <summary>
        /// The leaf and slot of the item with exactly <paramref name="key"/>: a descent without a cursor, for the
        /// point lookups (inodes, directory names) that listing does once per entry.
        /// </summary>
        public bool TryFind(BtrfsKey key, out BtrfsNode? leaf, out int slot)
        {
            BtrfsNode node = Volume.ReadNode(RootLogical, RootLevel, RootGeneration, Structure);
            while (!node.IsLeaf)
            {
                int lo = 0;
                int hi = node.Count - 1;
                int at = 0;
                while (lo <= hi)
                {
                    int mid = (lo + hi) >> 1;
                    if (node.Key(mid).CompareTo(key) <= 0)
                    {
                        at = mid;
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid - 1;
                    }
                }
                node = Child(node, at);
            }
            slot = LowerBound(node, key);
            leaf = node;
            return slot < node.Count && node.Key(slot).CompareTo(key) == 0;
        }

        private BtrfsTreeCursor Last()
        {
            var cursor = new BtrfsTreeCursor(this);
            BtrfsNode node = Volume.ReadNode(RootLogical, RootLevel, RootGeneration, Structure);
            while (!node.IsLeaf)
            {
                cursor.Push(node, node.Count - 1);
                node = Child(node, node.Count - 1);
            }
            cursor.Push(node, node.Count - 1);
            cursor.SettleOnLast();
            return cursor;
        }

        private static int LowerBound(BtrfsNode leaf, BtrfsKey key)
        {
            int lo = 0;
            int hi = leaf.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >> 1;
                if (leaf.Key(mid).CompareTo(key) < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            return lo;
        }

        /// <summary>Child <paramref name="slot"/> of an internal node, checked against its pointer.</summary>
        internal BtrfsNode Child(BtrfsNode parent, int slot)
        {
            BtrfsNode child = Volume.ReadNode(parent.Child(slot), parent.Level - 1, parent.ChildGeneration(slot), Structure);
            if (child.Count == 0 || child.Key(0).CompareTo(parent.Key(slot)) != 0)
            {
                throw new InvalidImageException(Volume.Where, Structure, $"the tree block at 0x{child.Logical:X} does not start with the key {parent.Key(slot)} its parent 0x{parent.Logical:X} names.");
            }
            return child;
        }
    }

    /// <summary>A position in a tree: the path of (block, slot) from the root to a leaf item.</summary>
    internal sealed class BtrfsTreeCursor
    {
        private readonly BtrfsTree tree;
        private readonly List<BtrfsNode> nodes = new List<BtrfsNode>(8);
        private readonly List<int> slots = new List<int>(8);
        private BtrfsKey? previous;

        public BtrfsTreeCursor(BtrfsTree tree)
        {
            this.tree = tree;
        }

        public bool Valid { get; private set; }

        public BtrfsKey Key => Leaf.Key(slots[slots.Count - 1]);

        public ReadOnlySpan<byte> Data => Leaf.Data(slots[slots.Count - 1]);

        private BtrfsNode Leaf => nodes[nodes.Count - 1];

        internal void Push(BtrfsNode node, int slot)
        {
            nodes.Add(node);
            slots.Add(slot);
        }

        /// <summary>After a search: a leaf slot past its last item moves to the next leaf's first.</summary>
        internal void Settle()
        {
            int leafSlot = slots[slots.Count - 1];
            if (leafSlot < Leaf.Count)
            {
                Valid = true;
                previous = Key;
                return;
            }
            slots[slots.Count - 1] = Leaf.Count - 1;
            Valid = Leaf.Count > 0;
            if (Valid)
            {
                previous = Key;
                MoveNext();
            }
        }

        /// <summary>After descending the right edge: valid when the last leaf has an item.</summary>
        internal void SettleOnLast()
        {
            Valid = Leaf.Count > 0;
            previous = Valid ? Key : (BtrfsKey?)null;
        }

        public void MoveNext() => Step(+1);

        public void MovePrevious() => Step(-1);

        private void Step(int direction)
        {
            if (!Valid)
            {
                return;
            }
            int depth = nodes.Count - 1;
            int slot = slots[depth] + direction;
            if (slot >= 0 && slot < nodes[depth].Count)
            {
                slots[depth] = slot;
            }
            else
            {
                // Climb to the first ancestor with a sibling in this direction, then descend its outer edge.
                int level = depth - 1;
                while (level >= 0)
                {
                    int s = slots[level] + direction;
                    if (s >= 0 && s < nodes[level].Count)
                    {
                        slots[level] = s;
                        break;
                    }
                    level--;
                }
                if (level < 0)
                {
                    Valid = false;
                    return;
                }
                nodes.RemoveRange(level + 1, nodes.Count - level - 1);
                slots.RemoveRange(level + 1, slots.Count - level - 1);
                while (!nodes[nodes.Count - 1].IsLeaf)
                {
                    BtrfsNode parent = nodes[nodes.Count - 1];
                    BtrfsNode child = tree.Child(parent, slots[slots.Count - 1]);
                    nodes.Add(child);
                    slots.Add(direction > 0 ? 0 : child.Count - 1);
                }
            }
            BtrfsKey key = Key;
            if (previous != null && (direction > 0 ? key.CompareTo(previous.Value) <= 0 : key.CompareTo(previous.Value) >= 0))
            {
                throw new InvalidImageException(tree.Volume.Where, tree.Structure, $"the keys go {(direction > 0 ? "backwards" : "forwards")} from {previous.Value} to {key} between tree blocks (a damaged or looping tree).");
            }
            previous = key;
        }
    }
}
