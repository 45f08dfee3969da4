// The cluster is shared by every test of this assembly and some tests stop its nodes: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
