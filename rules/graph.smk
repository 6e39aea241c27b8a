# Rules of the graph stage (see README.md).
