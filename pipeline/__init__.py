"""The doit glue, above every other package: running a step's code when its task runs
(steps.py), each task's code dependencies derived from imports (deps.py), the task graph
(graph.py) and the sweep over configs (sweep.py). Light imports only: dodo.py loads it."""
