# Rules of the zeros stage (see README.md).
