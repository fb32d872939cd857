// netstandard2.0 lacks the marker type that C# 9 'init' accessors and records need.
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}
