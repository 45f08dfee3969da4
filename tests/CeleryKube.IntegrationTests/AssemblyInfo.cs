// Each test class starts its own processes; on two cores, running them one class at a time keeps
// timings honest and the machine responsive. So every class shares the assembly's one collection,
// except the five-minute outage (OutageTests.Collection): it spends those minutes idle with its
// task-service stopped, so it runs beside the others instead of adding five minutes to the run.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly, MaxParallelThreads = 2)]
