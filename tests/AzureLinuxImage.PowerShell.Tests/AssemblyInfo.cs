// The Pester suites run in child pwsh processes that the harness throttles itself; test classes here
// (suites, build script, module publishing) may run side by side.
[assembly: Xunit.CollectionBehavior(MaxParallelThreads = 2)]
