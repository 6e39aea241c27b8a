# Rules of the train stage (see README.md).
