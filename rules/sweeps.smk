# Rules of the sweeps stage (see README.md).
