from array import array
from collections.abc import Callable, Iterable

def fold(text: str, fold_char: Callable[[str], str], /) -> tuple[str, bytes]: ...
def tokens(
    hay: str,
    skip: TokenSet,
    shortest: int,
    longest: int,
    keys: TokenSet = ...,
    lonely: TokenSet = ...,
    company: TokenSet = ...,
    /,
) -> list[tuple[int, str]]: ...
def named(
    hay: str,
    skip: TokenSet,
    shortest: int,
    longest: int,
    heads: TokenSet,
    head: int,
    text: str,
    origins: memoryview,
    /,
) -> list[tuple[int, str]]: ...
def holds(hashes: array[int], value: int, /) -> bool: ...
def runs(
    hay: str, keys: TokenSet, prefixes: TokenSet, longest: int, /
) -> list[tuple[int, int, int]]: ...
def near(token: str, keys: TokenSet, /) -> bool: ...

class TokenSet:
    def __init__(self, tokens: Iterable[str] = ..., /) -> None: ...
    def add(self, token: str, /) -> None: ...
    def __contains__(self, token: object, /) -> bool: ...
    def __len__(self) -> int: ...
