// Tests that write multi-GiB sparse files or run external tools share two cores: run collections
// in parallel but keep each test class sequential (xUnit's default).
[assembly: Xunit.CollectionBehavior(MaxParallelThreads = 2)]
