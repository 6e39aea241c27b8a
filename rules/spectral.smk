# Rules of the spectral stage (see README.md).
