"""One exception type for bad input, so entry points can print it without a traceback."""


class ZetalabError(Exception):
    """A problem with the user's input or files: the message names it and says how to fix it."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(problem if fix is None else f"{problem}\n  fix: {fix}")
