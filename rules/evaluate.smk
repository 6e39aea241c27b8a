# Rules of the evaluate stage (see README.md).
