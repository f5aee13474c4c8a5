"""A sibling module the notebook imports: it travels with the cell."""


def greeting() -> str:
    return "hello from helpers"
