// Each test class starts its own processes; on two cores, running them one class at a time keeps
// timings honest and the machine responsive.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
